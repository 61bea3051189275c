/**
 * The single executable's entry: one `kport` binary that is kportd or kportctl, by the name it was run
 * as (a `kportd` or `kportctl` link to it) or by its first argument (`kport kportd --foreground`,
 * `kport kportctl list`); plain `kport ARGS` is kportctl. Only the chosen side is loaded.
 */
import { basename } from 'node:path';

const ROLES = ['kportd', 'kportctl'] as const;
type Role = (typeof ROLES)[number];

const named = basename(process.argv0).replace(/\.exe$/i, '');
let role: Role = 'kportctl';
if ((ROLES as readonly string[]).includes(named)) role = named as Role;
else if ((ROLES as readonly string[]).includes(process.argv[2] ?? '')) role = process.argv.splice(2, 1)[0] as Role;
// Each side reads process.argv.slice(2), as it does when run by node.
void (role === 'kportd' ? import('../daemon/main.js') : import('../client/main.js'));
