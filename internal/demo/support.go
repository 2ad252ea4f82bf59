package demo

import (
	"encoding/json"

	"github.com/seed9706/socketio/socketio"
)

// typingEvent is the "typing" event both sides receive.
type typingEvent struct {
	From     string `json:"from"`
	Name     string `json:"name"`
	Typing   bool   `json:"typing"`
	TicketID string `json:"ticketId"` // added to the contract's fields, last
}

// assignedEvent is "ticket:assigned".
type assignedEvent struct {
	TicketID string `json:"ticketId"`
	Agent    string `json:"agent"`
}

// closedEvent is "ticket:closed".
type closedEvent struct {
	TicketID string `json:"ticketId"`
	Reason   string `json:"reason"`
}

// presenceEvent tells agents whether a ticket's customer is connected.
type presenceEvent struct {
	TicketID string `json:"ticketId"`
	Online   bool   `json:"online"`
}

// okAck answers ticket:claim and ticket:close.
type okAck struct {
	OK     bool         `json:"ok"`
	Error  string       `json:"error,omitempty"`
	Ticket *TicketState `json:"ticket,omitempty"`
}

// sentAck acknowledges a stored message.
type sentAck struct {
	ID string `json:"id"`
	TS int64  `json:"ts"`
}

// toTicket broadcasts to the customers and agents of a ticket, except the
// sender.
func (a *App) toTicket(id string, sender *socketio.Socket, event string, payload any) {
	room := ticketRoom(id)
	support, agents := a.support.To(room), a.agents.To(room)
	if sender != nil && sender.Namespace() == a.support {
		support = sender.To(room)
	} else if sender != nil {
		agents = sender.To(room)
	}
	_ = support.Emit(event, payload)
	_ = agents.Emit(event, payload)
}

func (a *App) ticketExpired(id string, wasQueued bool) {
	a.toTicket(id, nil, "ticket:closed", closedEvent{id, "the customer left"})
	if wasQueued {
		a.broadcastQueue()
	}
}

// onCustomer serves one customer socket of /support. The socket's handlers
// run one at a time, so ticketID needs no lock.
func (a *App) onCustomer(s *socketio.Socket) {
	var ticketID, customer string // the ticket and the customer's name in it
	var auth struct {
		TicketID string `json:"ticketId"`
		Name     string `json:"name"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	name, nameOK := cleanText(auth.Name, maxNameRunes)
	if validID(auth.TicketID) && nameOK {
		// A customer coming back, after a network failure or a server restart.
		st, cameOnline, queueChanged, err := a.desk.customerJoined(auth.TicketID, name)
		if err == nil {
			ticketID, customer = st.TicketID, st.Name
			s.Join(ticketRoom(ticketID))
			_ = s.Emit("ticket:state", st)
			if cameOnline {
				_ = a.agents.To(ticketRoom(ticketID)).Emit("presence", presenceEvent{ticketID, true})
			}
			if queueChanged {
				a.broadcastQueue()
			}
		}
	}

	s.On("ticket:open", func(e *socketio.Event) {
		var req struct {
			Name string `json:"name"`
		}
		if err := e.Args(&req); err != nil {
			_ = e.Ack(errorAck{"bad request: " + err.Error()})
			return
		}
		name, ok := cleanText(req.Name, maxNameRunes)
		if !ok {
			_ = e.Ack(errorAck{"name must be 1 to 40 characters"})
			return
		}
		if ticketID != "" {
			a.customerLeft(ticketID)
			s.Leave(ticketRoom(ticketID))
		}
		st, err := a.desk.open(name)
		if err != nil {
			ticketID = ""
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		ticketID, customer = st.TicketID, st.Name
		s.Join(ticketRoom(ticketID))
		_ = e.Ack(map[string]string{"ticketId": ticketID})
		a.broadcastQueue()
	})

	s.On("message:send", func(e *socketio.Event) {
		var req struct {
			Text string `json:"text"`
		}
		if err := e.Args(&req); err != nil {
			_ = e.Ack(errorAck{"bad request: " + err.Error()})
			return
		}
		text, ok := cleanText(req.Text, maxTextRunes)
		switch {
		case ticketID == "":
			_ = e.Ack(errorAck{errNoTicket.Error()})
			return
		case !ok:
			_ = e.Ack(errorAck{"text must be 1 to 2000 characters"})
			return
		}
		m, err := a.desk.post(Message{TicketID: ticketID, From: "customer", Name: customer, Text: text})
		if err != nil {
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		a.toTicket(ticketID, s, "message", m)
		_ = e.Ack(sentAck{m.ID, m.TS})
	})

	s.On("typing", func(e *socketio.Event) {
		var typing bool
		if ticketID == "" || e.Args(&typing) != nil {
			return
		}
		a.toTicket(ticketID, s, "typing", typingEvent{"customer", customer, typing, ticketID})
	})

	s.OnDisconnect(func(string) {
		if ticketID != "" {
			a.customerLeft(ticketID)
		}
	})
}

func (a *App) customerLeft(id string) {
	wentOffline, queued := a.desk.customerLeft(id)
	if wentOffline {
		_ = a.agents.To(ticketRoom(id)).Emit("presence", presenceEvent{id, false})
		if queued {
			a.broadcastQueue()
		}
	}
}

// onAgent serves one agent socket of /agents, already authenticated.
func (a *App) onAgent(s *socketio.Socket) {
	var auth struct {
		Name    string   `json:"name"`
		Tickets []string `json:"tickets"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	agent, ok := cleanText(auth.Name, maxNameRunes)
	if !ok {
		agent = "Agent"
	}
	// Tickets the agent held before reconnecting: back into their rooms.
	if len(auth.Tickets) > maxRestoreTickets {
		auth.Tickets = auth.Tickets[:maxRestoreTickets]
	}
	resumed := false
	for _, id := range auth.Tickets {
		if !validID(id) {
			continue
		}
		st, err := a.desk.resume(id, agent)
		if err != nil {
			_ = s.Emit("ticket:closed", closedEvent{id, err.Error()})
			continue
		}
		resumed = true
		s.Join(ticketRoom(id))
		_ = s.Emit("ticket:state", st)
		_ = a.support.To(ticketRoom(id)).Emit("ticket:assigned", assignedEvent{id, agent})
	}
	if resumed { // a resumed ticket may have been back in the queue
		a.broadcastQueue()
	} else {
		a.queueMu.Lock() // a queue broadcast after this snapshot reaches this socket too
		q := a.desk.queue()
		if q == nil {
			q = []QueueItem{} // Redis is down: the next change sends the queue
		}
		_ = s.Emit("queue", q)
		a.queueMu.Unlock()
	}

	s.On("ticket:claim", func(e *socketio.Event) {
		var req struct {
			TicketID string `json:"ticketId"`
		}
		if err := e.Args(&req); err != nil {
			_ = e.Ack(okAck{Error: "bad request: " + err.Error()})
			return
		}
		st, err := a.desk.claim(req.TicketID, agent)
		if err != nil {
			_ = e.Ack(okAck{Error: err.Error()})
			return
		}
		s.Join(ticketRoom(st.TicketID))
		_ = e.Ack(okAck{OK: true, Ticket: &st})
		_ = a.support.To(ticketRoom(st.TicketID)).Emit("ticket:assigned", assignedEvent{st.TicketID, agent})
		a.broadcastQueue()
	})

	s.On("message:send", func(e *socketio.Event) {
		var req struct {
			TicketID string `json:"ticketId"`
			Text     string `json:"text"`
		}
		if err := e.Args(&req); err != nil {
			_ = e.Ack(errorAck{"bad request: " + err.Error()})
			return
		}
		text, ok := cleanText(req.Text, maxTextRunes)
		if !ok {
			_ = e.Ack(errorAck{"text must be 1 to 2000 characters"})
			return
		}
		m, err := a.desk.post(Message{TicketID: req.TicketID, From: "agent", Name: agent, Text: text})
		if err != nil {
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		a.toTicket(req.TicketID, s, "message", m)
		_ = e.Ack(sentAck{m.ID, m.TS})
	})

	s.On("typing", func(e *socketio.Event) {
		var req struct {
			TicketID string `json:"ticketId"`
			Typing   bool   `json:"typing"`
		}
		if e.Args(&req) != nil || !a.desk.owns(req.TicketID, agent) {
			return
		}
		a.toTicket(req.TicketID, s, "typing", typingEvent{"agent", agent, req.Typing, req.TicketID})
	})

	s.On("ticket:close", func(e *socketio.Event) {
		var req struct {
			TicketID string `json:"ticketId"`
		}
		if err := e.Args(&req); err != nil {
			_ = e.Ack(okAck{Error: "bad request: " + err.Error()})
			return
		}
		if err := a.desk.close(req.TicketID, agent); err != nil {
			_ = e.Ack(okAck{Error: err.Error()})
			return
		}
		_ = e.Ack(okAck{OK: true})
		a.toTicket(req.TicketID, s, "ticket:closed", closedEvent{req.TicketID, "closed by " + agent})
	})
}
