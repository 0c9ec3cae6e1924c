/**
 * CPU and memory of a process (the hub) during a measurement, from /proc: CPU time from
 * `/proc/<pid>/stat` (utime + stime, in clock ticks), RSS from `VmRSS` in `/proc/<pid>/status`
 * sampled every 100 ms for the peak.
 * @module
 */

import { readFileSync } from 'node:fs';

/** Linux's USER_HZ, 100 on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN) * 1024;
}

export interface ProcessStats {
  /** CPU used over the window, in % of one core (200 % = both cores of this machine). */
  cpuPercent: number;
  peakRssBytes: number;
  endRssBytes: number;
  seconds: number;
}

/** Starts sampling `pid`; `stop()` returns the figures of the window since `start`. */
export function sampleProcess(pid: number): { stop(): ProcessStats } {
  const startTicks = cpuTicks(pid);
  const startedAt = performance.now();
  let peakRssBytes = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peakRssBytes = Math.max(peakRssBytes, rssBytes(pid));
    } catch {}
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      const seconds = (performance.now() - startedAt) / 1000;
      const endRssBytes = rssBytes(pid);
      peakRssBytes = Math.max(peakRssBytes, endRssBytes);
      const cpuSeconds = (cpuTicks(pid) - startTicks) / TICKS_PER_SECOND;
      return { cpuPercent: (100 * cpuSeconds) / seconds, peakRssBytes, endRssBytes, seconds };
    },
  };
}
