import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePortSpec } from '../../config/ports.js';

test('port specs in every form kubectl takes', () => {
  const cases: Array<[string | number, number, number | string]> = [
    ['8080:80', 8080, 80],
    ['8080:http', 8080, 'http'],
    ['5432', 5432, 5432],
    [5432, 5432, 5432],
    [':80', 0, 80],
    ['0:80', 0, 80],
    [':http', 0, 'http'],
    ['65535:1', 65535, 1],
    ['0:65535', 0, 65535],
    ['8443:https-alt', 8443, 'https-alt'],
    ['9000:p8080', 9000, 'p8080'],
  ];
  for (const [spec, local, remote] of cases) {
    assert.deepEqual(parsePortSpec(spec), { ok: true, value: { local, remote, spec: String(spec) } }, String(spec));
  }
});

test('bad port specs say what is wrong', () => {
  const cases: Array<[string | number, string]> = [
    ['80:abc!', '"80:abc!" is not a port or port name'],
    ['8080:80:1', '"8080:80:1" is not a port spec: write LOCAL:REMOTE, REMOTE, or :REMOTE'],
    ['', 'port spec cannot be empty (write LOCAL:REMOTE, REMOTE, or :REMOTE)'],
    ['8080:', '"8080:" has no remote port (write LOCAL:REMOTE, REMOTE, or :REMOTE)'],
    ['abc:80', '"abc:80": local port "abc" is not a number'],
    [' 8080:80', '" 8080:80": local port " 8080" is not a number'],
    ['70000:80', '"70000:80": local port 70000 is out of range (0–65535)'],
    ['8080:0', '"8080:0": remote port 0 is out of range (1–65535)'],
    ['8080:65536', '"8080:65536": remote port 65536 is out of range (1–65535)'],
    ['0', '"0": remote port 0 is out of range (1–65535)'],
    ['99999999999999999999999', '"99999999999999999999999": remote port 1e+23 is out of range (1–65535)'],
    ['http', '"http": a port name needs a local port, as in "8080:http" or ":http"'],
    ['80:HTTP', '"80:HTTP": "HTTP" is not a valid port name: use lowercase letters, digits and \'-\''],
    ['80:my_port', '"80:my_port": "my_port" is not a valid port name: use lowercase letters, digits and \'-\''],
    ['80:a-very-long-port-name', '"80:a-very-long-port-name": "a-very-long-port-name" is not a valid port name: it has 21 characters, at most 15 are allowed'],
    ['80:-http', '"80:-http": "-http" is not a valid port name: it cannot start or end with \'-\''],
    ['80:ht--tp', '"80:ht--tp": "ht--tp" is not a valid port name: it cannot contain \'--\''],
    ['80:8-0', '"80:8-0": "8-0" is not a valid port name: it needs at least one letter'],
    [0, 'port 0 is out of range (1–65535)'],
    [70000, 'port 70000 is out of range (1–65535)'],
    [80.5, 'port 80.5 is not a whole number'],
    [-1, 'port -1 is out of range (1–65535)'],
  ];
  for (const [spec, message] of cases) {
    assert.deepEqual(parsePortSpec(spec), { ok: false, message }, String(spec));
  }
});
