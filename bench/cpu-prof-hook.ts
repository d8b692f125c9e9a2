/**
 * Loaded into the Nimbus server by the bench (`node --import dist/bench/cpu-prof-hook.js`)
 * when BENCH_PROFILE is set: SIGUSR2 starts V8's CPU profiler (the one `node --cpu-prof`
 * uses) in-process, the next SIGUSR2 stops it and writes the profile to
 * `$NIMBUS_BENCH_PROF_DIR/<name>.cpuprofile`, where <name> is read from the file
 * `$NIMBUS_BENCH_PROF_DIR/next`. So each bench phase gets a profile of its own, without the
 * fill and start-up that `--cpu-prof` would mix in. Not part of the server: only the bench loads it.
 */
import { Session } from 'node:inspector';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.NIMBUS_BENCH_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  process.on('SIGUSR2', () => {
    void (async () => {
      const heap = process.env.NIMBUS_BENCH_PROF_HEAP === '1';
      if (!running && heap) {
        running = true;
        // Allocation sampling, including what the GC has since collected: where garbage comes from.
        await post('HeapProfiler.enable');
        await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        writeFileSync(path.join(dir, 'started'), String(Date.now()));
      } else if (heap) {
        running = false;
        const { profile } = await post('HeapProfiler.stopSampling');
        let name = 'profile';
        try {
          name = readFileSync(path.join(dir, 'next'), 'utf8').trim() || name;
        } catch {
          /* default name */
        }
        writeFileSync(path.join(dir, `${name}.heapprofile`), JSON.stringify(profile));
        writeFileSync(path.join(dir, 'stopped'), name);
      } else if (!running) {
        running = true;
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: Number(process.env.NIMBUS_BENCH_PROF_INTERVAL_US ?? 200) });
        await post('Profiler.start');
        writeFileSync(path.join(dir, 'started'), String(Date.now()));
      } else {
        running = false;
        const { profile } = await post('Profiler.stop');
        let name = 'profile';
        try {
          name = readFileSync(path.join(dir, 'next'), 'utf8').trim() || name;
        } catch {
          /* default name */
        }
        writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
        writeFileSync(path.join(dir, 'stopped'), name);
      }
    })();
  });
}
