/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or the bench's BENCH_PROFILE mode):
 * the top functions by self time, and the inclusive time of the request pipeline's stages.
 *
 *   node dist/bench/prof-summary.js <file.cpuprofile> [top=25] [requests]
 *
 * With `requests` (how many requests the profile covers) times are also given in µs per request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Stages of a request, by function name (inclusive time: the function and all it calls). */
export const STAGES: Array<[string, string[]]> = [
  ['http parse (node internals)', ['parserOnHeadersComplete', 'parserOnIncoming']],
  ['pipeline: handle (all)', ['handle']],
  ['  front doors + query', ['queryDoor', 'functionUrlDoor', 'codeLinkDoor', 'healthDoor', 'websiteDoor', 'parseQuery']],
  ['  resolve service', ['resolve']],
  ['  parse auth', ['parseAuth', 'parseAuthV2']],
  ['  authenticate (SigV4)', ['authenticate', 'authenticateS3']],
  ['    checkSignature', ['checkSignature', 'verifySignature']],
  ['  codec resolve (route)', ['match']],
  ['  codec parse (input)', ['parse', 'readHttpBindings', 'parseInput']],
  ['  authorize', ['authorize']],
  ['  handler: PutObject', ['putObject']],
  ['  handler: GetObject/HeadObject', ['readObject']],
  ['  handler: DeleteObject', ['deleteObject']],
  ['  handler: ListObjectsV2', ['listObjectsV2']],
  ['    receiveBody', ['receiveBody']],
  ['    commitObject', ['commitObject']],
  ['    store.transaction', ['transaction']],
  ['    sqlite listObjects', ['listObjects']],
  ['  serialize', ['serialize', 'serializeListObjectsV2']],
  ['    toXml', ['toXml', 'writeStructure', 'writeValue']],
  ['  send (response write)', ['send', 'endResponse', 'sendFast']],
  ['  request log', ['logRequest']],
  ['(garbage collector)', ['(garbage collector)']],
  ['(idle)', ['(idle)']],
  ['(program)', ['(program)']],
];

export function summarise(file: string, top = 25, requests?: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, Node>();
  for (const n of p.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node from the samples (each sample's delta is the time up to it).
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
  const busy = total - idle;
  const label = (n: Node) => {
    const f = n.callFrame;
    const file = f.url ? path.basename(f.url.replace(/^file:\/\//, '')) : '';
    return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const k = label(byId.get(id)!);
    self.set(k, (self.get(k) ?? 0) + us);
  }
  // Inclusive time per function name: a sample counts once per name on its stack.
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur)!.callFrame.functionName;
      if (seen.has(name)) continue;
      seen.add(name);
      incl.set(name, (incl.get(name) ?? 0) + us);
    }
  }
  const pct = (us: number) => ((100 * us) / (busy || 1)).toFixed(1).padStart(5) + '%';
  const per = (us: number) => (requests ? `${(us / requests).toFixed(1).padStart(7)} µs/req` : '');
  const out: string[] = [];
  out.push(`${path.basename(file)}: ${(total / 1e6).toFixed(2)} s profiled, busy ${(busy / 1e6).toFixed(2)} s${requests ? `, ${requests} requests, ${(busy / requests).toFixed(1)} µs busy per request` : ''}`);
  out.push(`top ${top} by self time (% of busy time):`);
  for (const [k, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`  ${pct(us)} ${per(us)}  ${k}`);
  out.push('stages (inclusive, % of busy time):');
  for (const [name, fns] of STAGES) {
    const us = Math.max(0, ...fns.map((f) => incl.get(f) ?? 0));
    if (us > 0) out.push(`  ${pct(us)} ${per(us)}  ${name}`);
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [file, top, reqs] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/prof-summary.js <file.cpuprofile> [top] [requests]');
    process.exit(2);
  }
  console.log(summarise(file, Number(top ?? 25), reqs ? Number(reqs) : undefined));
}
