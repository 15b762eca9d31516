package dispatcher

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
)

// ParseRedisURL reads the Redis that hookd's queue and limits live on:
//
//	redis://[:password@]host:port[/db]            one server (rediss:// over TLS)
//	redis-sentinel://[:password@]host:port[,host:port…][/db]?master=NAME[&sentinel_password=…]
//	                                              a master found through Sentinel, followed on failover
//	redis-cluster://[:password@]host:port[,host:port…]
//	                                              a Cluster, from any of its nodes (rediss-cluster:// over TLS)
//
// The password of the URL is the data nodes'; a Sentinel's own password, if
// it has one, is sentinel_password.
func ParseRedisURL(s string) (asynq.RedisConnOpt, error) {
	u, hosts, err := parseMultiHost(s)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "redis-socket":
		return asynq.ParseRedisURI(s)
	case "redis-sentinel":
		master := u.Query().Get("master")
		if master == "" {
			return nil, fmt.Errorf("a redis-sentinel URL names the master: ?master=NAME")
		}
		db, err := redisDB(u)
		if err != nil {
			return nil, err
		}
		username, password := redisUser(u)
		return asynq.RedisFailoverClientOpt{
			MasterName: master, SentinelAddrs: redisAddrs(hosts, "26379"), SentinelPassword: u.Query().Get("sentinel_password"),
			Username: username, Password: password, DB: db,
		}, nil
	case "redis-cluster", "rediss-cluster":
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return nil, fmt.Errorf("a Redis Cluster has one database, 0: drop /%s", p)
		}
		username, password := redisUser(u)
		opt := asynq.RedisClusterClientOpt{Addrs: redisAddrs(hosts, "6379"), Username: username, Password: password}
		if u.Scheme == "rediss-cluster" {
			host, _, err := net.SplitHostPort(opt.Addrs[0])
			if err != nil {
				host = opt.Addrs[0]
			}
			opt.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		return opt, nil
	default:
		return nil, fmt.Errorf("scheme %q: want redis, rediss, redis-sentinel, redis-cluster or rediss-cluster", u.Scheme)
	}
}

// parseMultiHost parses a URL whose host may be a comma-separated list,
// which net/url refuses when a host but the last lacks a port; it returns
// the URL with one placeholder host, and the list.
func parseMultiHost(s string) (*url.URL, string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, "", fmt.Errorf("%q has no scheme://", s)
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	u, err := url.Parse(scheme + "://" + userinfo + "hosts" + tail)
	return u, hosts, err
}

// redisAddrs are comma-separated hosts, each with a port.
func redisAddrs(hosts, defaultPort string) []string {
	var addrs []string
	for host := range strings.SplitSeq(hosts, ",") {
		if host = strings.TrimSpace(host); host == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(host, defaultPort)
		}
		addrs = append(addrs, host)
	}
	return addrs
}

func redisUser(u *url.URL) (username, password string) {
	if u.User == nil {
		return "", ""
	}
	password, _ = u.User.Password()
	return u.User.Username(), password
}

func redisDB(u *url.URL) (int, error) {
	p := strings.Trim(u.Path, "/")
	if p == "" {
		return 0, nil
	}
	db, err := strconv.Atoi(p)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("the path is the database number, not %q", p)
	}
	return db, nil
}
