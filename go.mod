module github.com/seed9706/socketio

go 1.26

ignore ./node_modules

require github.com/gobwas/ws v1.5.0

require github.com/gobwas/httphead v0.1.0 // indirect
