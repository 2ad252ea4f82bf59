module github.com/seed9706/socketio

go 1.26.0

ignore ./node_modules

require (
	github.com/gobwas/ws v1.5.0
	github.com/redis/go-redis/v9 v9.23.0
	golang.org/x/sys v0.48.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
)
