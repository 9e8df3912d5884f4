# Enqueue N no-op jobs with Sidekiq::Client.push_bulk, 1,000 per call (its
# documented batch size), and print {"jobs","secs","rate"}.
#   REDIS_URL=redis://127.0.0.1:PORT/0 ruby sidekiq_push.rb N
require_relative "sidekiq_app"
require "json"

n = Integer(ARGV.fetch(0))
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
(0...n).each_slice(1000) do |slice|
  Sidekiq::Client.push_bulk("class" => NoopJob, "args" => slice.map { |i| [i] })
end
secs = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
puts JSON.generate("jobs" => n, "secs" => secs, "rate" => n / secs)
