// Entry of a driver process: runs one exported function of a workload module and reports its result
// and this process's CPU seconds over IPC. Driver processes hold the clients of a workload, so their
// CPU time and the server's (read from /proc) can be told apart.
process.once('message', async ({ module, name, params }) => {
  try {
    const mod = await import(module)
    const result = await mod[name](params)
    process.send({ ok: true, result }, () => process.exit(0))
  } catch (error) {
    process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1))
  }
})
