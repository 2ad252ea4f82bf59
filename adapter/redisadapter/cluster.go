package redisadapter

import (
	"context"
	"encoding/json"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// Message types of the ClusterAdapter envelope {type, data, uid, nsp}
// (MessageType in socket.io-adapter), which the sharded and the streams
// adapters speak.
const (
	msgBroadcast              = 3
	msgSocketsJoin            = 4
	msgSocketsLeave           = 5
	msgDisconnectSockets      = 6
	msgFetchSockets           = 7
	msgFetchSocketsResponse   = 8
	msgServerSideEmit         = 9
	msgServerSideEmitResponse = 10
	msgBroadcastClientCount   = 11
	msgBroadcastAck           = 12
)

// onClusterMessage runs a message from server uid (JS
// ClusterAdapter.onMessage); respond publishes a response to that server.
// beforeBroadcast, when not nil, sees a broadcast without ack before local
// delivery (the streams adapter appends the recovery offset there).
func (c *core) onClusterMessage(uid string, kind int, data *object, respond func(uid string, kind int, data *object),
	beforeBroadcast func(*parser.Packet, adapter.BroadcastOptions)) error {
	requestID := str(data.get("requestId"))
	ctx := context.Background()
	switch kind {
	case msgBroadcast:
		p, err := treePacket(data.get("packet"), c.nsp.Name())
		if err != nil {
			return err
		}
		opts := readOpts(data.get("opts"), true)
		if !data.has("requestId") {
			if beforeBroadcast != nil {
				beforeBroadcast(p, opts)
			}
			return c.localAdapter.Broadcast(ctx, p, opts)
		}
		return c.localAdapter.BroadcastWithAck(ctx, p, opts,
			func(n int) {
				respond(uid, msgBroadcastClientCount, newObject("requestId", requestID, "clientCount", float64(n)))
			},
			func(ack *parser.Packet) {
				if arg, err := firstAckArg(ack); err == nil {
					respond(uid, msgBroadcastAck, newObject("requestId", requestID, "packet", arg))
				}
			})
	case msgSocketsJoin:
		return c.localAdapter.AddSockets(ctx, readOpts(data.get("opts"), false), strs(data.get("rooms")))
	case msgSocketsLeave:
		return c.localAdapter.DelSockets(ctx, readOpts(data.get("opts"), false), strs(data.get("rooms")))
	case msgDisconnectSockets:
		return c.localAdapter.DisconnectSockets(ctx, readOpts(data.get("opts"), false), data.get("close") == true)
	case msgFetchSockets:
		list, _ := c.localAdapter.FetchSockets(ctx, readOpts(data.get("opts"), false))
		sockets := make([]any, len(list))
		for i, s := range list {
			sockets[i] = socketTree(s)
		}
		respond(uid, msgFetchSocketsResponse, newObject("requestId", requestID, "sockets", sockets))
	case msgServerSideEmit:
		var reply func(json.RawMessage)
		if data.has("requestId") {
			reply = func(r json.RawMessage) {
				respond(uid, msgServerSideEmitResponse, newObject("requestId", requestID, "packet", rawJSON(r)))
			}
		}
		c.deliverServerSide(data.get("packet"), reply)
	}
	return nil
}

// onClusterResponse handles a response to a request of this server.
func (c *core) onClusterResponse(kind int, data *object) {
	requestID := str(data.get("requestId"))
	switch kind {
	case msgBroadcastClientCount, msgBroadcastAck:
		ar := c.ackRequest(requestID)
		if ar == nil {
			return
		}
		if kind == msgBroadcastClientCount {
			n, _ := num(data.get("clientCount"))
			ar.clientCount(int(n))
		} else {
			ar.ack(ackPacket(data.get("packet"), c.nsp.Name()))
		}
	case msgFetchSocketsResponse:
		c.addResponse(requestID, func(r *request) {
			list, _ := data.get("sockets").([]any)
			for _, s := range list {
				r.sockets = append(r.sockets, remoteSocket(s))
			}
		})
	case msgServerSideEmitResponse:
		c.addResponse(requestID, func(r *request) {
			r.responses = append(r.responses, jsonOrNil(data, "packet"))
		})
	}
}
