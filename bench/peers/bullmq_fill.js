// Enqueue N no-op BullMQ jobs with Queue.addBulk, 1,000 per call, and print
// {"jobs","secs","rate"}.   REDIS_URL=... node bullmq_fill.js N
const path = require('path');
const { Queue } = require(path.join(__dirname, '..', 'node_modules', 'bullmq'));
const IORedis = require(path.join(__dirname, '..', 'node_modules', 'ioredis'));

async function main() {
  const n = Number(process.argv[2]);
  const connection = new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('bench', { connection });
  await queue.waitUntilReady();
  const t0 = process.hrtime.bigint();
  for (let start = 0; start < n; start += 1000) {
    const jobs = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) jobs.push({ name: 'noop', data: { i } });
    await queue.addBulk(jobs);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ jobs: n, secs, rate: n / secs }));
  await queue.close();
  await connection.quit();
}
main().catch((err) => {
  console.error('bullmq_fill:', err.message);
  process.exit(1);
});
