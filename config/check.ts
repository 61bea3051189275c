/** `kportd check [FILE]`: validates a kport.yaml without starting anything. */
export async function runCheck(
  _file: string | undefined,
  _env: NodeJS.ProcessEnv,
): Promise<{ code: number; text: string }> {
  return { code: 2, text: 'kportd check: not built yet\n' };
}
