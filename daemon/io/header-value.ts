/** What an HTTP header value may hold (RFC 9110 field-value): the characters Node's HTTP writer accepts, and no others. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
