package dispatcher

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"hookd.dev/hookd/models"
)

// A tenant makes deliveries by hand too: a replay, a resend, a recover, a
// test send, a retry, through its API key or its portal. Those are bounded
// per tenant (five portal replays made 1,005 deliveries, and nothing
// stopped a sixth) when the request is marked models.ByTenant; the app's
// own emits, and what an admin does, are not.

// ManualBudget bounds the deliveries a tenant makes by hand; *TenantBudget
// is one.
type ManualBudget interface {
	// Take takes n deliveries of the tenant's budget, or refuses them all
	// with a rate_limited error that says when to try again.
	Take(ctx context.Context, tenantID string, n int) error
}

// TenantBudget is a ManualBudget kept in Redis, shared by every process:
// perHour deliveries an hour, the whole hour's at once if need be (a
// replay of up to models.MaxReplay messages).
type TenantBudget struct {
	rdb     redis.UniversalClient
	rate    *redis_rate.Limiter
	limit   redis_rate.Limit
	perHour int
}

// NewTenantBudget allows each tenant perHour deliveries made by hand an hour.
func NewTenantBudget(redisOpt asynq.RedisConnOpt, perHour int) (*TenantBudget, error) {
	rdb, ok := redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("unsupported Redis connection %T", redisOpt)
	}
	return &TenantBudget{rdb: rdb, rate: redis_rate.NewLimiter(rdb), perHour: perHour,
		limit: redis_rate.Limit{Rate: perHour, Period: time.Hour, Burst: perHour}}, nil
}

// Take takes n of the tenant's deliveries this hour, or refuses them all.
func (b *TenantBudget) Take(ctx context.Context, tenantID string, n int) error {
	if n <= 0 {
		return nil
	}
	if n > b.perHour {
		return models.Errorf(models.CodeInvalid, "this would make %d deliveries by hand; a tenant may make at most %d an hour (HOOKD_TENANT_MANUAL_DELIVERIES): make fewer at a time", n, b.perHour)
	}
	res, err := b.rate.AllowN(ctx, "hookd:manual:"+tenantID, b.limit, n)
	if err != nil {
		return fmt.Errorf("take %d of tenant %s's manual deliveries: %w", n, tenantID, err)
	}
	if res.Allowed > 0 {
		return nil
	}
	wait := time.Duration(math.Ceil(res.RetryAfter.Seconds())) * time.Second
	return &models.Error{Code: models.CodeRateLimited, RetryAfter: wait, Message: fmt.Sprintf(
		"this would make %d deliveries by hand, and the tenant has %d of its %d an hour left (HOOKD_TENANT_MANUAL_DELIVERIES: replays, resends, recovers, test sends and retries); try again in %s",
		n, res.Remaining, b.perHour, wait)}
}

// Close releases the Redis connection.
func (b *TenantBudget) Close() error { return b.rdb.Close() }

// charge takes n of the tenant's budget when a tenant asked for them.
func (p *Pipeline) charge(ctx context.Context, tenantID string, n int) error {
	if p.budget == nil || !models.IsByTenant(ctx) {
		return nil
	}
	err := p.budget.Take(ctx, tenantID, n)
	if err != nil && models.ErrorCode(err) == "" {
		// The budget protects hookd; refusing everything while Redis is
		// away would not (the API's rate limit does the same).
		p.log.Warn("tenant budget unavailable; letting the request through", "tenant_id", tenantID, "error", err)
		return nil
	}
	return err
}
