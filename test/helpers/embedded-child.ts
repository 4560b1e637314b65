import { startEmbeddedPostgres } from '../../db/embedded.ts';
import { silentLogger } from '../../db/log.ts';

// A platform-like process holding an embedded database, for the crash tests: it starts the
// database in the directory given, says READY and waits to be killed.
const [dir, watchdog] = process.argv.slice(2) as [string, string];
await startEmbeddedPostgres(dir, silentLogger, [], { watchdog: watchdog !== 'no-watchdog' });
process.stdout.write('READY\n');
setInterval(() => {}, 1 << 30);
