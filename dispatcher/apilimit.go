package dispatcher

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// APILimiter limits API requests per key across every API process, in Redis
// (GCRA: a steady rate with a burst of twice that).
type APILimiter struct {
	rdb   redis.UniversalClient
	rate  *redis_rate.Limiter
	limit redis_rate.Limit
}

// NewAPILimiter allows perSecond requests a second per key.
func NewAPILimiter(redisOpt asynq.RedisConnOpt, perSecond int) (*APILimiter, error) {
	rdb, ok := redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("unsupported Redis connection %T", redisOpt)
	}
	return &APILimiter{
		rdb: rdb, rate: redis_rate.NewLimiter(rdb),
		limit: redis_rate.Limit{Rate: perSecond, Period: time.Second, Burst: 2 * perSecond},
	}, nil
}

// Allow takes one request of key's allowance; when none is left it says how long to wait.
func (l *APILimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	res, err := l.rate.Allow(ctx, "hookd:api:"+key, l.limit)
	if err != nil {
		return false, 0, err
	}
	return res.Allowed > 0, res.RetryAfter, nil
}

// Close releases the Redis connection.
func (l *APILimiter) Close() error { return l.rdb.Close() }
