import { join } from 'node:path';
import type { RequestContext } from '../../server/context.js';
import type { Runtime } from '../../server/runtime.js';
import { LambdaEngine, type Credentials, type LogEvent } from '../../runtime/lambda/index.js';
import { log } from '../../util/log.js';
import { now } from '../../util/clock.js';
import { assumeRoleForService } from '../sts/index.js';
import { LambdaStore } from './store.js';

/**
 * Lambda's long-lived parts for one Nimbus process: the document store, and the execution
 * engine (started on the first invoke, so start-up pays nothing for it), the execution
 * roles' credentials (cached until shortly before they expire) and where logs go.
 */
export interface LambdaRuntime {
  store: LambdaStore;
  readonly engine: LambdaEngine;
  /** The execution role's temporary credentials, as Lambda hands them to a function. */
  roleCredentials(roleArn: string, functionName: string): Promise<Credentials>;
}

/** Receives the engine's log events; CloudWatch Logs registers itself here. */
export type LogWriter = (runtime: Runtime, target: { accountId: string; region: string; group: string; stream: string }, events: LogEvent[]) => void;
let logWriter: LogWriter | undefined;
export function setLambdaLogWriter(w: LogWriter): void {
  logWriter = w;
}

const byRuntime = new WeakMap<Runtime, LambdaRuntime>();

export function lambda(ctx: RequestContext | Runtime): LambdaRuntime {
  const runtime = 'runtime' in ctx ? ctx.runtime : ctx;
  let l = byRuntime.get(runtime);
  if (!l) {
    l = create(runtime);
    byRuntime.set(runtime, l);
  }
  return l;
}

/** Stops every execution environment (at shutdown). */
export async function shutdownLambda(runtime: Runtime): Promise<void> {
  const l = byRuntime.get(runtime) as (LambdaRuntime & { started?: () => LambdaEngine | undefined }) | undefined;
  await l?.started?.()?.shutdown();
}

/** Log groups are per account and region: the engine's sink gets the group and stream only. */
const groupOwners = new Map<string, { accountId: string; region: string }>();
export function noteLogGroupOwner(group: string, accountId: string, region: string): void {
  groupOwners.set(group, { accountId, region });
}

function create(runtime: Runtime): LambdaRuntime {
  let engine: LambdaEngine | undefined;
  const creds = new Map<string, { value: Credentials; until: number }>();
  return {
    store: new LambdaStore(runtime.store),
    started: () => engine,
    get engine(): LambdaEngine {
      engine ??= new LambdaEngine({
        baseDir: join(runtime.config.dataDir, 'lambda', 'engine'),
        idleTimeoutMs: runtime.config.lambdaIdleTimeoutMs,
        log,
        onLog: (group, stream, events) => {
          const owner = groupOwners.get(group) ?? { accountId: runtime.config.accountId, region: runtime.config.region };
          logWriter?.(runtime, { ...owner, group, stream }, events);
        },
      });
      return engine;
    },
    async roleCredentials(roleArn: string, functionName: string): Promise<Credentials> {
      // One session per role and function: its name is the function's, as on AWS
      // (arn:aws:sts::<account>:assumed-role/<role>/<function>).
      const key = `${roleArn}\n${functionName}`;
      const hit = creds.get(key);
      if (hit && hit.until > now()) return hit.value;
      const s = await assumeRoleForService(runtime.iam, roleArn, 'lambda.amazonaws.com', functionName, 3600 * 12);
      const value = { accessKeyId: s.AccessKeyId, secretAccessKey: s.SecretAccessKey, sessionToken: s.SessionToken };
      // Handed out while they have at least 15 minutes left (environments live up to hours).
      creds.set(key, { value, until: Date.parse(s.Expiration) - 15 * 60_000 });
      return value;
    },
  } as LambdaRuntime & { started: () => LambdaEngine | undefined };
}
