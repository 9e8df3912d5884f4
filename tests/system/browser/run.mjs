// The dashboard in headless Chromium (Debian's /usr/bin/chromium), driven by
// playwright-core. Run by tests/system/test_web.py, which starts Redis, the
// workers and `drudge web`, sets up the jobs below and passes:
//   DRUDGE_WEB_URL     http://127.0.0.1:PORT
//   DRUDGE_WEB_TOKEN   the dashboard token
//   DRUDGE_ARTIFACTS   where the screenshots go (tests/artifacts/)
//   DRUDGE_EXPECT_GIF  1 when drudge-image serves ImageJob (else drudge-noop does)
// Set up by the caller: CountJob paused with 3 queued jobs; FlakyJob with one
// failed job "flaky-1" whose error holds markup; PauseJob with a worker.
// Exit status 0 when every check passed; each check prints one line.
import {chromium} from 'playwright-core';
import path from 'node:path';

const base = process.env.DRUDGE_WEB_URL;
const token = process.env.DRUDGE_WEB_TOKEN;
const artifacts = process.env.DRUDGE_ARTIFACTS;
const expectGif = process.env.DRUDGE_EXPECT_GIF === '1';
const TIMEOUT = 20000;

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

async function shot(page, name) {
  await page.waitForTimeout(400); // let the progress bar's transition finish
  await page.screenshot({path: path.join(artifacts, `web-${name}.png`), fullPage: true});
}

async function api(p) {
  const res = await fetch(base + p);
  return res.json();
}

// headless: true passes --headless; playwright gives every launch a fresh
// --user-data-dir of its own (and refuses one in args).
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const context = await browser.newContext({viewport: {width: 1360, height: 900}});
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });

  // ---- overview: the counts, and the token from the address ----
  await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
  const queued = page.locator('tr[data-class="CountJob"] td[data-field="queued"]');
  await queued.filter({hasText: /^3$/}).waitFor();
  check(true, 'overview shows 3 queued CountJob jobs');
  check(/held for the test/.test(await page.locator('tr[data-class="CountJob"] td[data-field="paused"]').innerText()),
    'overview shows the pause reason');
  await page.locator('tr[data-class="FlakyJob"] td[data-field="failed"]').filter({hasText: /^1$/}).waitFor();
  check(true, 'overview shows 1 failed FlakyJob job');
  check(!page.url().includes('token='), 'the token left the address bar');
  await page.locator('#capacity tbody tr').first().waitFor();
  await page.locator('tr[data-class="CountJob"] svg.spark').waitFor();
  check(true, 'the throughput plot and the capacity panel are drawn');
  await shot(page, 'overview');

  // ---- pause / resume buttons ----
  await page.locator('button[data-action="pause"][data-class="PauseJob"]').click();
  await page.locator('tr[data-class="PauseJob"] td[data-field="paused"]').filter({hasText: 'paused from the dashboard'}).waitFor();
  let row = (await api('/api/stats')).classes.find((c) => c.class === 'PauseJob');
  check(row.paused && row.paused.reason === 'paused from the dashboard', 'Pause button paused the class (API agrees)');
  await page.locator('button[data-action="resume"][data-class="PauseJob"]').click();
  await page.locator('button[data-action="pause"][data-class="PauseJob"]').waitFor();
  row = (await api('/api/stats')).classes.find((c) => c.class === 'PauseJob');
  check(row.paused === null, 'Resume button resumed the class (API agrees)');

  // ---- workers ----
  await page.goto(`${base}/workers`);
  await page.locator('#workers tbody tr[data-worker]').nth(2).waitFor();
  check(await page.locator('#workers tbody tr[data-worker]').count() >= 3, 'workers page lists the workers');
  await shot(page, 'workers');

  // ---- class page: the error is text, retry makes the job complete ----
  await page.goto(`${base}/classes/FlakyJob`);
  const err = page.locator('tr[data-job="flaky-1"] [data-field="error"]');
  await err.waitFor();
  check((await err.innerText()).includes('<script>window.__xss=1</script>'), 'the error with <script> shows as text');
  check(await page.evaluate(() => window.__xss === undefined), 'no markup from the error ran');
  check(await page.locator('main script, main img[src="x"]').count() === 0, 'no element was made from the error');
  await page.locator('tr[data-job="flaky-1"] details summary').click();
  await shot(page, 'class');
  await page.locator('button[data-action="retry"][data-job="flaky-1"]').click();
  await page.locator('#notice').filter({hasText: 'queued again'}).waitFor();
  check(true, 'Retry button answered');
  await page.goto(`${base}/jobs/FlakyJob/flaky-1`);
  await page.locator('#status-fields [data-field="state"]').filter({hasText: /^done$/}).waitFor();
  check(true, 'the retried job completed (job page, live)');
  await shot(page, 'job');

  // ---- the demo page ----
  await page.goto(`${base}/demo`);
  await page.locator('#demo-text').fill('drudge');
  await page.locator('#demo-gif-form button').click();
  const state = page.locator('#demo-gif-form ~ div [data-field="state"] .badge');
  await page.locator('#demo-gif-job a').waitFor();
  check(true, 'the demo queued a text_gif ImageJob');
  if (expectGif) {
    // the worker reports "frame N/20"-style messages; catch one on the fly
    const seen = await page.waitForFunction(() => {
      const m = document.querySelector('#demo-gif-form ~ div [data-field="message"]');
      return m && /\b\d+\/\d+\b/.test(m.textContent) ? m.textContent : false;
    }, null, {timeout: 60000, polling: 'raf'});
    check(true, `the demo shows the worker's progress ("${await seen.jsonValue()}")`);
    await page.screenshot({path: path.join(artifacts, 'web-demo-progress.png')});
    const img = page.locator('#demo-gif-output-img');
    await img.waitFor({timeout: 120000});
    await page.waitForFunction(() => {
      const i = document.getElementById('demo-gif-output-img');
      return i && i.complete && i.naturalWidth > 0;
    }, null, {timeout: 30000});
    check(true, 'the finished GIF is shown');
  } else {
    await state.filter({hasText: 'done'}).waitFor({timeout: 30000});
    const width = await page.locator('#demo-gif-form ~ div .progress > div').evaluate((d) => d.style.width);
    check(width === '100%', 'the demo followed the job to done (noop serves ImageJob: no GIF to check)');
  }
  await shot(page, 'demo');
  check(errors.length === 0, 'no script errors on any page' + (errors.length ? ': ' + errors.join('; ') : ''));
} catch (e) {
  failed = true;
  console.log('not ok - ' + e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
