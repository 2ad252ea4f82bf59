package redisadapter

import (
	"cmp"
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

// clusterBroadcastWithAck is JS ClusterAdapter.broadcastWithAck: the
// request goes to every server (publish), then runs locally; each server
// reports its client count and each client's ack.
func (c *core) clusterBroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions,
	clientCount func(int), ack func(*parser.Packet), publish func(kind int, data *object) error) error {
	var pubErr error
	if !opts.Flags.Local {
		packet, err := packetTree(p, "")
		if err != nil {
			return err
		}
		id := randomHex()
		c.addAckRequest(id, opts.Flags.Timeout, clientCount, ack)
		pubErr = publish(msgBroadcast, newObject("packet", packet, "requestId", id, "opts", wireOpts(opts, true)))
	}
	return cmp.Or(c.localAdapter.BroadcastWithAck(ctx, p, opts, clientCount, ack), pubErr)
}

// clusterFetchSockets is JS ClusterAdapter.fetchSockets: the local sockets
// and those of every other server; a *TimeoutError when one does not answer
// within the flags' timeout (the requests timeout when zero). servers counts
// the servers, publish sends a message to all of them.
func (c *core) clusterFetchSockets(ctx context.Context, opts adapter.BroadcastOptions,
	servers func(context.Context) (int, error), publish func(kind int, data *object) error) ([]adapter.SocketDetails, error) {
	local, err := c.localAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	n, err := servers(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.newRequest(n, cmp.Or(opts.Flags.Timeout, c.timeout), func(id string) error {
		return publish(msgFetchSockets, newObject("opts", wireOpts(opts, true), "requestId", id))
	})
	if r == nil || err != nil {
		return local, err
	}
	if ok, err := c.wait(ctx, r); err != nil || !ok {
		return nil, cmp.Or(err, error(&TimeoutError{Received: r.got, Expected: r.expected}))
	}
	return append(local, r.sockets...), nil
}

// clusterServerSideEmit is JS ClusterAdapter.serverSideEmit: with ack, it
// waits (the requests timeout) for one reply per other server.
func (c *core) clusterServerSideEmit(ctx context.Context, args []json.RawMessage, ack func([]json.RawMessage, error),
	servers func(context.Context) (int, error), publish func(kind int, data *object) error) error {
	packet := make([]any, len(args))
	for i, arg := range args {
		packet[i] = rawJSON(arg)
	}
	if ack == nil {
		return publish(msgServerSideEmit, newObject("packet", packet))
	}
	n, err := servers(ctx)
	if err != nil {
		return err
	}
	r, err := c.newRequest(n, c.timeout, func(id string) error {
		return publish(msgServerSideEmit, newObject("requestId", id, "packet", packet))
	})
	if err != nil {
		return err
	}
	if r == nil {
		ack([]json.RawMessage{}, nil)
		return nil
	}
	c.awaitServerSide(r, ack)
	return nil
}
