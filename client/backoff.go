package client

import (
	"math"
	"math/rand/v2"
	"time"
)

// backoff computes reconnection delays as the JS client's Backoff does:
// min * 2^attempts, with jitter, capped at max.
type backoff struct {
	min, max time.Duration
	jitter   float64
	attempts int
	rand     func() float64 // rand.Float64; replaced in tests
}

// maxExponent bounds the power of two: past 2^1023 it is +Inf, and the
// jitter turns Inf - Inf into NaN, a zero delay (JS then retries in a busy
// loop after about a thousand attempts). 2^100 is far above any max.
const maxExponent = 100

// duration returns the next delay and counts an attempt.
func (b *backoff) duration() time.Duration {
	ms := float64(b.min.Milliseconds()) * math.Pow(2, float64(min(b.attempts, maxExponent)))
	b.attempts++
	if b.jitter > 0 {
		r := b.rand()
		deviation := math.Floor(r * b.jitter * ms)
		if int(math.Floor(r*10))&1 == 0 {
			ms -= deviation
		} else {
			ms += deviation
		}
	}
	ms = math.Min(ms, float64(b.max.Milliseconds()))
	return time.Duration(int64(ms)) * time.Millisecond // truncated, as JS "| 0"
}

func (b *backoff) reset() { b.attempts = 0 }

func newBackoff(min, max time.Duration, jitter float64) backoff {
	return backoff{min: min, max: max, jitter: jitter, rand: rand.Float64}
}
