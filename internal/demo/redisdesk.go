package demo

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisPrefix starts every key the demo keeps in Redis.
const redisPrefix = "socketio-demo:"

const (
	redisTimeout = 5 * time.Second
	onlineTTL    = 24 * time.Hour // a ticket with its customer online, refreshed on activity
)

// Lua scripts: each change of a ticket is one atomic step, so servers of a
// cluster never see half a change. Keys: T ticket hash (name, openedAt,
// agent, online), M its messages (JSON list), Q the queue (zset by openedAt),
// A every ticket (zset by expiry deadline, to bound their number).
var (
	// ARGV: id, name, now, ttl, max -> 1, or 0 when full
	openScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'openedAt', ARGV[3], 'agent', '', 'online', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3] + ARGV[4], ARGV[1])
return 1`)

	// ARGV: id, name, now, ttl, max -> {online, queueChanged}, or {-1} when full
	joinScript = redis.NewScript(`
local changed = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[3])
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[5]) then return {-1} end
  redis.call('HSET', KEYS[1], 'name', '', 'openedAt', ARGV[3], 'agent', '', 'online', 0)
  changed = 1
end
local agent = redis.call('HGET', KEYS[1], 'agent')
if redis.call('HGET', KEYS[1], 'name') == '' then
  redis.call('HSET', KEYS[1], 'name', ARGV[2])
  if agent == '' then changed = 1 end
end
local online = redis.call('HINCRBY', KEYS[1], 'online', 1)
if agent == '' then
  if online == 1 then changed = 1 end
  redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[1], 'openedAt'), ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[3] + ARGV[4], ARGV[1])
return {online, changed}`)

	// ARGV: id, now, grace -> {wentOffline, queued}
	leaveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local online = redis.call('HINCRBY', KEYS[1], 'online', -1)
if online > 0 then return {0, 0} end
redis.call('HSET', KEYS[1], 'online', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2] + ARGV[3], ARGV[1])
if online < 0 then return {0, 0} end
if redis.call('HGET', KEYS[1], 'agent') == '' then return {1, 1} end
return {1, 0}`)

	// ARGV: id -> 1 expired from the queue, 0 expired, -1 kept
	expireScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if tonumber(redis.call('HGET', KEYS[1], 'online')) > 0 then return -1 end
local agent = redis.call('HGET', KEYS[1], 'agent')
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if agent == '' then return 1 end
return 0`)

	// ARGV: id, agent, create ("1": an unknown ticket is created for the
	// agent), now, grace, max -> "ok", "created", "nf", "full" or "c:<agent>"
	claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[3] ~= '1' then return 'nf' end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[4])
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[6]) then return 'full' end
  redis.call('HSET', KEYS[1], 'name', '', 'openedAt', ARGV[4], 'agent', ARGV[2], 'online', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[4], ARGV[4] + ARGV[5], ARGV[1])
  return 'created'
end
local cur = redis.call('HGET', KEYS[1], 'agent')
if cur ~= '' and cur ~= ARGV[2] then return 'c:' .. cur end
redis.call('HSET', KEYS[1], 'agent', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 'ok'`)

	// ARGV: id, agent -> "ok", "nf" or "no"
	closeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'nf' end
if redis.call('HGET', KEYS[1], 'agent') ~= ARGV[2] then return 'no' end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 'ok'`)

	// ARGV: from, agent, message JSON, max messages, now, ttl, id -> "ok",
	// "nf" or "no" (not the agent's ticket)
	postScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'nf' end
if ARGV[1] == 'agent' and redis.call('HGET', KEYS[1], 'agent') ~= ARGV[2] then return 'no' end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
local ttl = redis.call('PTTL', KEYS[1])
if tonumber(redis.call('HGET', KEYS[1], 'online')) > 0 then
  ttl = tonumber(ARGV[6])
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('ZADD', KEYS[4], ARGV[5] + ttl, ARGV[7])
end
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 'ok'`)
)

// redisDesk is the ticket store of a cluster: the same behaviour as desk,
// kept in Redis. Expiry timers are local to the server where the customer
// left; if that server dies, Redis expires the keys anyway.
type redisDesk struct {
	rdb      redis.UniversalClient
	grace    time.Duration
	onExpire func(id string, wasQueued bool)
	log      *slog.Logger

	mu     sync.Mutex
	timers map[string]*time.Timer
	closed bool
}

func newRedisDesk(rdb redis.UniversalClient, grace time.Duration, onExpire func(string, bool), log *slog.Logger) *redisDesk {
	return &redisDesk{rdb: rdb, grace: grace, onExpire: onExpire, log: log, timers: make(map[string]*time.Timer)}
}

func ticketKeys(id string) []string {
	return []string{redisPrefix + "T:" + id, redisPrefix + "M:" + id, redisPrefix + "Q", redisPrefix + "A"}
}

func redisCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), redisTimeout)
}

// failed logs a Redis error and returns the error clients see.
func (d *redisDesk) failed(op string, err error) error {
	d.log.Error("demo: redis", "op", op, "err", err)
	return errUnavailable
}

func (d *redisDesk) load(ctx context.Context, id string) (TicketState, error) {
	keys := ticketKeys(id)
	pipe := d.rdb.Pipeline()
	fields := pipe.HMGet(ctx, keys[0], "name", "openedAt", "agent", "online")
	msgs := pipe.LRange(ctx, keys[1], 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return TicketState{}, err
	}
	v := fields.Val()
	if v[1] == nil {
		return TicketState{}, errTicketNotFound
	}
	str := func(x any) string { s, _ := x.(string); return s }
	st := TicketState{TicketID: id, Name: str(v[0]), Agent: str(v[2]), Messages: []Message{}}
	st.OpenedAt, _ = strconv.ParseInt(str(v[1]), 10, 64)
	online, _ := strconv.Atoi(str(v[3]))
	st.Online = online > 0
	for _, raw := range msgs.Val() {
		var m Message
		if json.Unmarshal([]byte(raw), &m) == nil {
			st.Messages = append(st.Messages, m)
		}
	}
	return st, nil
}

func (d *redisDesk) open(name string) (TicketState, error) {
	ctx, cancel := redisCtx()
	defer cancel()
	id, now := newID(), time.Now().UnixMilli()
	ok, err := openScript.Run(ctx, d.rdb, ticketKeys(id), id, name, now, onlineTTL.Milliseconds(), maxTickets).Int()
	switch {
	case err != nil:
		return TicketState{}, d.failed("open", err)
	case ok == 0:
		return TicketState{}, errTooManyTickets
	}
	return TicketState{TicketID: id, Name: name, OpenedAt: now, Online: true, Messages: []Message{}}, nil
}

func (d *redisDesk) customerJoined(id, name string) (TicketState, bool, bool, error) {
	ctx, cancel := redisCtx()
	defer cancel()
	d.stopTimer(id)
	res, err := joinScript.Run(ctx, d.rdb, ticketKeys(id), id, name, time.Now().UnixMilli(), onlineTTL.Milliseconds(), maxTickets).Int64Slice()
	if err != nil {
		return TicketState{}, false, false, d.failed("join", err)
	}
	if res[0] < 0 {
		return TicketState{}, false, false, errTooManyTickets
	}
	st, err := d.load(ctx, id)
	if err != nil {
		return TicketState{}, false, false, d.failed("join", err)
	}
	return st, res[0] == 1, res[1] == 1, nil
}

func (d *redisDesk) customerLeft(id string) (wentOffline, queued bool) {
	ctx, cancel := redisCtx()
	defer cancel()
	res, err := leaveScript.Run(ctx, d.rdb, ticketKeys(id), id, time.Now().UnixMilli(), d.keepOffline().Milliseconds()).Int64Slice()
	if err != nil {
		_ = d.failed("leave", err)
		return false, false
	}
	if res[0] == 1 {
		d.startTimer(id)
	}
	return res[0] == 1, res[1] == 1
}

// keepOffline is how long Redis keeps a ticket without its customer: the
// grace period, plus a margin for the local timer to act first.
func (d *redisDesk) keepOffline() time.Duration { return d.grace + time.Minute }

func (d *redisDesk) startTimer(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.timers[id] != nil || len(d.timers) >= maxTickets {
		return
	}
	d.timers[id] = time.AfterFunc(d.grace, func() {
		d.mu.Lock()
		delete(d.timers, id)
		closed := d.closed
		d.mu.Unlock()
		if closed {
			return
		}
		ctx, cancel := redisCtx()
		defer cancel()
		res, err := expireScript.Run(ctx, d.rdb, ticketKeys(id), id).Int()
		if err != nil {
			_ = d.failed("expire", err)
			return
		}
		if res >= 0 {
			d.onExpire(id, res == 1)
		}
	})
}

func (d *redisDesk) stopTimer(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[id]; t != nil {
		t.Stop()
		delete(d.timers, id)
	}
}

func (d *redisDesk) assign(op, id, agent string, create bool) (TicketState, error) {
	ctx, cancel := redisCtx()
	defer cancel()
	flag := "0"
	if create {
		flag = "1"
	}
	res, err := claimScript.Run(ctx, d.rdb, ticketKeys(id), id, agent, flag, time.Now().UnixMilli(), d.keepOffline().Milliseconds(), maxTickets).Text()
	switch {
	case err != nil:
		return TicketState{}, d.failed(op, err)
	case res == "nf":
		return TicketState{}, errTicketNotFound
	case res == "full":
		return TicketState{}, errTooManyTickets
	case strings.HasPrefix(res, "c:"):
		return TicketState{}, &claimedError{strings.TrimPrefix(res, "c:")}
	case res == "created":
		d.startTimer(id)
	}
	st, err := d.load(ctx, id)
	if err != nil {
		return TicketState{}, d.failed(op, err)
	}
	return st, nil
}

func (d *redisDesk) claim(id, agent string) (TicketState, error) {
	if !validID(id) {
		return TicketState{}, errTicketNotFound
	}
	return d.assign("claim", id, agent, false)
}

func (d *redisDesk) resume(id, agent string) (TicketState, error) {
	return d.assign("resume", id, agent, true)
}

func (d *redisDesk) close(id, agent string) error {
	if !validID(id) {
		return errTicketNotFound
	}
	ctx, cancel := redisCtx()
	defer cancel()
	res, err := closeScript.Run(ctx, d.rdb, ticketKeys(id), id, agent).Text()
	switch {
	case err != nil:
		return d.failed("close", err)
	case res == "nf":
		return errTicketNotFound
	case res == "no":
		return errNotYourTicket
	}
	d.stopTimer(id)
	return nil
}

func (d *redisDesk) post(m Message) (Message, error) {
	if !validID(m.TicketID) {
		return Message{}, errTicketNotFound
	}
	ctx, cancel := redisCtx()
	defer cancel()
	m.ID, m.TS = newID(), time.Now().UnixMilli()
	raw, err := json.Marshal(m)
	if err != nil {
		return Message{}, err
	}
	res, err := postScript.Run(ctx, d.rdb, ticketKeys(m.TicketID), m.From, m.Name, raw, maxMessages, m.TS, onlineTTL.Milliseconds(), m.TicketID).Text()
	switch {
	case err != nil:
		return Message{}, d.failed("post", err)
	case res == "nf":
		return Message{}, errTicketNotFound
	case res == "no":
		return Message{}, errNotYourTicket
	}
	return m, nil
}

func (d *redisDesk) owns(id, agent string) bool {
	ctx, cancel := redisCtx()
	defer cancel()
	got, err := d.rdb.HGet(ctx, ticketKeys(id)[0], "agent").Result()
	return err == nil && got == agent
}

// queue lists the unclaimed tickets, oldest first; nil when Redis fails.
func (d *redisDesk) queue() []QueueItem {
	ctx, cancel := redisCtx()
	defer cancel()
	ids, err := d.rdb.ZRange(ctx, redisPrefix+"Q", 0, maxTickets-1).Result()
	if err != nil {
		_ = d.failed("queue", err)
		return nil
	}
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, ticketKeys(id)[0], "name", "openedAt", "agent", "online")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		_ = d.failed("queue", err)
		return nil
	}
	q := make([]QueueItem, 0, len(ids))
	var gone []any
	for i, id := range ids {
		v := cmds[i].Val()
		name, _ := v[0].(string)
		opened, _ := v[1].(string)
		agent, _ := v[2].(string)
		online, _ := v[3].(string)
		if opened == "" { // expired while its server was down
			gone = append(gone, id)
			continue
		}
		if name == "" || agent != "" {
			continue
		}
		at, _ := strconv.ParseInt(opened, 10, 64)
		q = append(q, QueueItem{TicketID: id, Name: name, OpenedAt: at, Online: online != "" && online != "0"})
	}
	if len(gone) > 0 {
		d.rdb.ZRem(ctx, redisPrefix+"Q", gone...)
	}
	return q
}

func (d *redisDesk) shutdown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, t := range d.timers {
		t.Stop()
	}
}

// redisClock is the orderClock of a cluster: the first server to see an
// order places it.
type redisClock struct {
	rdb  redis.UniversalClient
	life time.Duration
	log  *slog.Logger
}

var errUnavailable = errors.New("the service is unavailable, try again")

func (c redisClock) placedAt(id string, now time.Time) (time.Time, error) {
	ctx, cancel := redisCtx()
	defer cancel()
	key := redisPrefix + "O:" + id
	ms := now.UnixMilli()
	old, err := c.rdb.SetArgs(ctx, key, ms, redis.SetArgs{Mode: "NX", Get: true, TTL: c.life}).Result()
	switch {
	case errors.Is(err, redis.Nil): // placed now
		return time.UnixMilli(ms), nil
	case err != nil:
		c.log.Error("demo: redis", "op", "order", "err", err)
		return time.Time{}, errUnavailable
	}
	at, err := strconv.ParseInt(old, 10, 64)
	if err != nil {
		c.log.Error("demo: redis: bad order time", "order", id, "err", err)
		return time.Time{}, errUnavailable
	}
	return time.UnixMilli(at), nil
}
