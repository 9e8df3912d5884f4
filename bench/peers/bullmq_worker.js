// The BullMQ peer: a no-op worker on queue "bench". Redis from $REDIS_URL,
// $CONCURRENCY jobs at once (default 10). Completed jobs are kept (BullMQ's
// default), so each job's state stays readable, as drudge's status hash does.
const path = require('path');
const { Worker } = require(path.join(__dirname, '..', 'node_modules', 'bullmq'));
const IORedis = require(path.join(__dirname, '..', 'node_modules', 'ioredis'));

const connection = new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker('bench', async () => {}, {
  connection,
  concurrency: Number(process.env.CONCURRENCY || 10),
});
worker.on('error', (err) => console.error('bullmq_worker:', err.message));
const stop = async () => {
  await worker.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
