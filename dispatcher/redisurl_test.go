package dispatcher

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
)

func TestParseRedisURL(t *testing.T) {
	good := map[string]asynq.RedisConnOpt{
		"redis://:pw@cache:6380/2": asynq.RedisClientOpt{Addr: "cache:6380", Password: "pw", DB: 2},
		"redis-sentinel://:pw@s1:26379,s2,s3:26380/1?master=main&sentinel_password=spw": asynq.RedisFailoverClientOpt{
			MasterName: "main", SentinelAddrs: []string{"s1:26379", "s2:26379", "s3:26380"}, SentinelPassword: "spw", Password: "pw", DB: 1},
		"redis-cluster://user:pw@n1:7000,n2:7001,n3": asynq.RedisClusterClientOpt{
			Addrs: []string{"n1:7000", "n2:7001", "n3:6379"}, Username: "user", Password: "pw"},
	}
	for s, want := range good {
		got, err := ParseRedisURL(s)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, %v; want %#v", s, got, err, want)
		}
	}
	if opt, err := ParseRedisURL("rediss-cluster://n1:7000,n2:7001"); err != nil || opt.(asynq.RedisClusterClientOpt).TLSConfig.ServerName != "n1" {
		t.Errorf("rediss-cluster: %#v, %v", opt, err)
	}
	bad := map[string]string{
		"redis-sentinel://s1:26379":             "?master=",
		"redis-sentinel://s1:26379/x?master=m":  "database number",
		"redis-cluster://n1:7000/3":             "one database",
		"memcached://m:11211":                   "scheme",
		"redis-sentinel://s1:26379/-1?master=m": "database number",
	}
	for s, want := range bad {
		if _, err := ParseRedisURL(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", s, err, want)
		}
	}
}
