/**
 * The kportd under soak: a real child process with its own state folder, its output kept in a file
 * (a crash's last words go to stderr, not the log), sampled from /proc, paused and resumed with
 * SIGSTOP/SIGCONT, and asked over its control socket with a fresh connection per call (a connection
 * that a pause made the daemon drop must not blind the soak).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../client/rpc.js';
import { KPORTD } from '../test/helpers/bin.js';
import type { MethodName, ParamsIn, Results } from '../daemon/api/rpc.js';
import { waitUntil } from '../test/helpers/wait.js';



/** How the process ended, if it did. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it was seen. */
  at: number;
  /** The soak asked for it (stop()); otherwise kportd died on its own. */
  asked: boolean;
}

/** One /proc reading. */
export interface ProcSample {
  rssMB: number;
  fds: number;
  /** User + system CPU seconds used so far. */
  cpuS: number;
}

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** A running kportd. */
export class Kportd {
  exit: Exit | null = null;
  /** Resolves when the process exits (for whatever reason). */
  readonly exited: Promise<Exit>;
  private paused = false;
  private stopping = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly stateDir: string,
    readonly outputFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: performance.now(), asked: this.stopping };
        resolve(this.exit);
      }),
    );
  }

  /** Starts `kportd --foreground --config configFile` with its state in `dir/state`; resolves once every session is ready. */
  static async start(dir: string, configFile: string, sessions: readonly string[]): Promise<Kportd> {
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const outputFile = join(dir, 'kportd.out');
    const out = openSync(outputFile, 'a');
    const env = { ...process.env, KPORT_STATE_DIR: stateDir, KPORT_SOCKET: join(stateDir, 'kportd.sock'), NO_COLOR: '1' };
    // Its own process group: a Ctrl-C meant for the soak must not reach kportd and look like a crash.
    const child = spawn(process.execPath, [KPORTD, '--foreground', '--config', configFile], { stdio: ['ignore', out, out], env, detached: true });
    closeSync(out);
    const k = new Kportd(child, stateDir, outputFile);
    // A soak that dies half-way must not leave kportd behind (stopped, even).
    const orphanGuard = () => child.kill('SIGKILL');
    process.once('exit', orphanGuard);
    void k.exited.then(() => process.off('exit', orphanGuard));
    try {
      await waitUntil(async () => k.exit !== null || (await k.answers()), 'kportd to answer on its socket', 15_000, 50);
      if (k.exit) throw new Error(`kportd exited (${k.exit.code ?? k.exit.signal}) while starting; output:\n${k.output()}`);
      await Promise.all(sessions.map((name) => k.call('session.wait', { name, timeoutMs: 30_000 })));
    } catch (err) {
      await k.stop();
      throw err;
    }
    return k;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get socket(): string {
    return join(this.stateDir, 'kportd.sock');
  }

  /** The daemon's log file (rotated copies are `.1` … `.5`). */
  get logFile(): string {
    return join(this.stateDir, 'kportd.log');
  }

  /** True once a control connection opens. */
  private async answers(): Promise<boolean> {
    try {
      const c = await connect(this.socket);
      await c.close();
      return true;
    } catch {
      return false;
    }
  }

  /** Calls one RPC method on a fresh connection; rejects after `timeoutMs`. */
  async call<M extends MethodName>(method: M, params: ParamsIn<M>, timeoutMs = 35_000): Promise<Results[M]> {
    const c = await connect(this.socket);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${method}: no answer within ${timeoutMs} ms`)), timeoutMs)));
      return await Promise.race([c.call(method, params), timeout]);
    } finally {
      clearTimeout(timer);
      await c.close().catch(() => {});
    }
  }

  /** RSS and open fds from /proc, or null once the process is gone. */
  sample(): ProcSample | null {
    if (this.exit) return null;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const rssKB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      // Fields after the command name (which may hold spaces) start at state: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuS = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
      return { rssMB: rssKB / 1024, fds: readdirSync(`/proc/${this.pid}/fd`).length, cpuS };
    } catch {
      return null;
    }
  }

  /** SIGSTOP: the whole daemon freezes (listeners still accept into their backlog). */
  pause(): void {
    if (this.exit) return;
    this.paused = true;
    this.child.kill('SIGSTOP');
  }

  /** SIGCONT. */
  resume(): void {
    if (this.exit || !this.paused) return;
    this.paused = false;
    this.child.kill('SIGCONT');
  }

  /** What kportd printed (its JSON log lines and any crash output). */
  output(): string {
    try {
      return readFileSync(this.outputFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGCONT (a stopped process cannot act on SIGTERM), SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
  async stop(): Promise<Exit> {
    if (this.exit) return this.exit;
    this.stopping = true;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
