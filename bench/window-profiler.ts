import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** A CPU profile of one measured window (not the process' start-up), written as a .cpuprofile file. */
export interface WindowProfiler {
  /** Stops profiling and writes the profile. */
  stop(): Promise<void>;
}

/** Starts profiling this process now; `stop()` writes the profile to `path`. */
export async function startWindowProfiler(path: string): Promise<WindowProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(path, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
