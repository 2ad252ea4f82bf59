module github.com/seed9706/socketio

go 1.26

ignore ./node_modules
