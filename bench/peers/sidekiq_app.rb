# The Sidekiq peer: a no-op job, and Redis from $REDIS_URL. Loaded by the
# sidekiq server (-r) and by sidekiq_push.rb. Logs at WARN, as drudge's
# workers run with --log-level warn in the benchmark.
require "sidekiq"
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

Sidekiq.configure_server do |config|
  config.redis = { url: ENV.fetch("REDIS_URL") }
  config.logger.level = Logger::WARN
end
Sidekiq.configure_client do |config|
  config.redis = { url: ENV.fetch("REDIS_URL") }
end

class NoopJob
  include Sidekiq::Worker

  def perform(_i); end
end
