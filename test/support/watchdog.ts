// Loaded into every test file's process (`node --test --import`): a file still running long after
// its tests should have ended (something holds the event loop: a child process, a socket, a
// server) is ended here with the list of what is still open, so a hang fails fast and says why
// instead of stalling the whole suite. `--test-timeout` fails a hung test; this ends its file.
// The timer is unref'd: it never keeps a finished file alive.
const LIMIT_MS = Number(process.env.AMIME_TEST_FILE_LIMIT_MS ?? 300_000);

setTimeout(() => {
  process.stderr.write(`watchdog: ${process.argv[1] ?? "test file"} still running after ${LIMIT_MS} ms; open: ${process.getActiveResourcesInfo().join(", ")}\n`);
  process.exit(1);
}, LIMIT_MS).unref();
