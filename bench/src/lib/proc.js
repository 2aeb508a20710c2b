import { readFileSync } from 'node:fs'

// Clock ticks per second for /proc/<pid>/stat (CLK_TCK); 100 on every Linux this runs on.
const TICKS = 100

/** CPU seconds (user + system) and RSS bytes of a process, read from /proc, so it works for any child. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces; the fields after its closing parenthesis start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return { cpuSeconds: (utime + stime) / TICKS, rssBytes: rssKb * 1024 }
}

/** CPU seconds of this process so far. */
export function selfCpuSeconds() {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}
