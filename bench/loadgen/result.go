package loadgen

import (
	"encoding/json"
	"io"
	"time"
)

// Scenario names (PERF.md section 8).
const (
	Idle      = "idle"      // S1: memory per warm idle connection
	Connect   = "connect"   // S2: connection setup rate
	Echo      = "echo"      // S3: emit and echo back, closed loop
	Ack       = "ack"       // S3: emit with an acknowledgement, closed loop
	Broadcast = "broadcast" // S4: fan-out to one room in bursts
	Polling   = "polling"   // S5: long-polling clients doing acknowledged emits
)

// Scenarios lists every scenario name.
var Scenarios = []string{Idle, Connect, Echo, Ack, Broadcast, Polling}

// Result is what one run measured. Rates per server CPU-second are the
// headline figures: they move least when neighbours share the machine.
type Result struct {
	Scenario  string `json:"scenario"`
	Transport string `json:"transport,omitempty"`
	Conns     int    `json:"conns"`
	Size      int    `json:"size,omitempty"`

	Ops  int64  `json:"ops"`  // operations measured
	Unit string `json:"unit"` // what one operation is

	Seconds   float64 `json:"seconds"`              // wall time of the measured window
	ServerCPU float64 `json:"server_cpu,omitempty"` // server CPU seconds in the window
	ClientCPU float64 `json:"client_cpu"`           // load generator CPU seconds in the window

	PerSec          float64 `json:"per_sec"`
	PerServerCPUSec float64 `json:"per_server_cpu_sec,omitempty"`

	P50Ms float64 `json:"p50_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`

	// Idle only: server RSS at each step, and bytes per connection from the
	// least-squares slope over the steps.
	Memory       []MemPoint `json:"memory,omitempty"`
	BytesPerConn float64    `json:"bytes_per_conn,omitempty"`
	// Idle only: server CPU while holding, in microseconds per second per connection.
	IdleCPUMicros float64 `json:"idle_cpu_us_per_conn_sec,omitempty"`

	LoadBefore float64 `json:"load_before"` // 1-minute load average
	LoadAfter  float64 `json:"load_after"`
	Procs      int     `json:"procs"` // load generator processes
}

// MemPoint is the server's memory with Conns connections held.
type MemPoint struct {
	Conns int   `json:"conns"`
	RSS   int64 `json:"rss"`
}

// finish fills the derived rates.
func (r *Result) finish(hist *histogram) {
	if r.Seconds > 0 {
		r.PerSec = float64(r.Ops) / r.Seconds
	}
	if r.ServerCPU > 0 {
		r.PerServerCPUSec = float64(r.Ops) / r.ServerCPU
	}
	if hist != nil {
		r.P50Ms = float64(hist.quantile(0.50)) / float64(time.Millisecond)
		r.P99Ms = float64(hist.quantile(0.99)) / float64(time.Millisecond)
	}
	r.LoadAfter = loadAvg()
}

// WriteJSON writes r as one JSON line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// slope returns the least-squares slope of RSS over connections.
func slope(points []MemPoint) float64 {
	if len(points) < 2 {
		if len(points) == 1 && points[0].Conns > 0 {
			return float64(points[0].RSS) / float64(points[0].Conns)
		}
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range points {
		x, y := float64(p.Conns), float64(p.RSS)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(points))
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
