package adapter

// A room usually has one member (each socket is alone in the room named by
// its id) and a socket is in a few rooms, so both sets keep small sizes
// inline instead of allocating a map per room and per socket.

// roomMembers is the set of sockets in one room, stored by value in the
// rooms map: one member inline, a map by socket id from the second on. It
// holds the members themselves, so a broadcast reaches the sockets without
// looking each id up. The zero value is not a valid set: a room with no
// member is deleted.
type roomMembers struct {
	one  *member            // the only member while many is nil
	many map[string]*member // every member when there are two or more
}

func (r roomMembers) has(id string) bool {
	if r.many == nil {
		return r.one.id == id
	}
	_, ok := r.many[id]
	return ok
}

func (r roomMembers) len() int {
	if r.many == nil {
		return 1
	}
	return len(r.many)
}

// with returns the set plus m.
func (r roomMembers) with(m *member) roomMembers {
	if r.many == nil {
		if r.one.id == m.id {
			return r
		}
		r.many = map[string]*member{r.one.id: r.one}
		r.one = nil
	}
	r.many[m.id] = m
	return r
}

// without returns the set minus id and whether it is empty.
func (r roomMembers) without(id string) (roomMembers, bool) {
	if r.many == nil {
		return r, r.one.id == id
	}
	delete(r.many, id)
	if len(r.many) == 1 { // back inline: a large room that emptied frees its map
		for _, last := range r.many {
			return roomMembers{one: last}, false
		}
	}
	return r, len(r.many) == 0
}

// each calls fn for every member.
func (r roomMembers) each(fn func(*member)) {
	if r.many == nil {
		fn(r.one)
		return
	}
	for _, m := range r.many {
		fn(m)
	}
}

// roomList is the set of rooms of one socket, in the order it joined them:
// a slice searched linearly, and a map as well from maxRoomList rooms on.
type roomList struct {
	list  []string
	index map[string]int // position in list; only past maxRoomList rooms
}

const maxRoomList = 16

func (l *roomList) has(room string) bool {
	if l.index != nil {
		_, ok := l.index[room]
		return ok
	}
	for _, r := range l.list {
		if r == room {
			return true
		}
	}
	return false
}

// add adds room and reports whether it was new.
func (l *roomList) add(room string) bool {
	if l.has(room) {
		return false
	}
	if l.index == nil && len(l.list) == maxRoomList {
		l.index = make(map[string]int, 2*maxRoomList)
		for i, r := range l.list {
			l.index[r] = i
		}
	}
	if l.index != nil {
		l.index[room] = len(l.list)
	}
	l.list = append(l.list, room)
	return true
}

// remove removes room and reports whether it was there. Order is kept.
func (l *roomList) remove(room string) bool {
	i := -1
	if l.index != nil {
		j, ok := l.index[room]
		if !ok {
			return false
		}
		i = j
		delete(l.index, room)
		for _, r := range l.list[i+1:] {
			l.index[r]--
		}
	} else {
		for j, r := range l.list {
			if r == room {
				i = j
				break
			}
		}
		if i < 0 {
			return false
		}
	}
	copy(l.list[i:], l.list[i+1:])
	l.list[len(l.list)-1] = ""
	l.list = l.list[:len(l.list)-1]
	if len(l.list) == 0 {
		l.list, l.index = nil, nil
	}
	return true
}
