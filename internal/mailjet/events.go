package mailjet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"popsell-gdpr/internal/jsondepth"
)

// Event types Mailjet posts to an Event API callback URL (CONTRACT §1). Any other value is
// kept as it came, so that a caller can ignore types it does not know while applying the
// known ones of the same batch.
const (
	EventSent    = "sent"
	EventOpen    = "open"
	EventClick   = "click"
	EventBounce  = "bounce"
	EventBlocked = "blocked"
	EventSpam    = "spam"
	EventUnsub   = "unsub"
)

// MaxEvents bounds one callback body. Mailjet documents no batch size for grouped events
// (it groups "the events of the last second"), so the bound is ours: it keeps a forged or
// runaway body from costing unbounded memory, and 10,000 events a second per brand is far
// above what one brand's mail produces.
const MaxEvents = 10_000

// MaxDepth bounds how deeply a callback body, or an event's payload, nests. Mailjet's events
// are flat objects, alone or in an array, 2 levels; a deeper body is refused before it is
// decoded, so its cost stays linear in its size (issue 24).
const MaxDepth = 16

// Errors DecodeEvents returns, wrapped with a position or a field name (never with input
// bytes: a body carries addresses). A handler answers 400 to both; Mailjet retries any
// non-200 for 24 h, so a body refused here is never silently half-applied.
var (
	ErrMalformed     = errors.New("mailjet events: malformed callback body")
	ErrTooManyEvents = errors.New("mailjet events: too many events in one body")
)

// Event is one Mailjet Event API callback (CONTRACT §1). Every field is optional: Mailjet
// omits several on some events, and sends fields this type does not name (ignored).
//
// It deliberately has no field for `ip`, `geo` or `agent` (open, click, unsub): those are
// never decoded, so they cannot be stored or logged by mistake (R-DATA-4). Nor does it keep
// `comment` and `smtp_reply`, raw SMTP text that quotes the recipient's address.
//
// Email and URL are personal data (an address; a link that may carry a token): callers
// digest the address and never log either (R-OPS-1). String, GoString and LogValue leave
// them out, so printing or logging an Event shows ids only.
type Event struct {
	Type        string    // sent, open, click, bounce, blocked, spam, unsub, or as received
	Time        time.Time // from `time`, Unix seconds, UTC; zero when absent or not an integer
	MessageID   int64     // exact above 2^53 (never read through float64)
	MessageGUID string    // `Message_GUID`, the MessageUUID the send returned
	Email       string    // the recipient: personal data
	CustomID    string    // the CustomID given at send time: our job id
	Payload     string    // the EventPayload given at send time; see ParsePayload

	// bounce and blocked
	HardBounce     bool   // `hard_bounce`: Mailjet says the error is permanent
	Blocked        bool   // `blocked`: this bounce leads to the recipient being blocked
	ErrorRelatedTo string // `error_related_to`: recipient, domain, content, spam, system, mailjet
	Error          string // `error`: e.g. "user unknown", "greylisted", "preblocked"

	Source string // spam: the feedback-loop programme that reported the complaint
	ListID int64  // unsub: `mj_list_id`, 0 for a List-Unsubscribe header
	URL    string // click: the link clicked; may carry a token, never log it
}

// DecodeEvents reads a callback body in either shape Mailjet posts: a bare JSON object
// (Version 1, one event per POST — not a list of one, whatever the docs say) or a JSON array
// (Version 2, "group events", types mixed). The first non-space byte decides. Unknown fields
// are ignored; unknown event types are kept. More than MaxEvents events is an error matching
// ErrTooManyEvents; anything that is not one of the two shapes matches ErrMalformed, and a
// body nested deeper than MaxDepth also matches *jsondepth.Error.
func DecodeEvents(body []byte) ([]Event, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if err := jsondepth.Check(trimmed, MaxDepth); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var events []Event
	switch trimmed[0] {
	case '{':
		var w *wireEvent
		if err := dec.Decode(&w); err != nil {
			return nil, decodeError(err, 0)
		}
		events = []Event{w.event()}
	case '[':
		if _, err := dec.Token(); err != nil { // the '['
			return nil, decodeError(err, 0)
		}
		for i := 0; dec.More(); i++ {
			if i == MaxEvents {
				return nil, fmt.Errorf("%w: more than %d", ErrTooManyEvents, MaxEvents)
			}
			// A pointer, so that a null element is seen (decoding null into a struct is a
			// silent no-op) and refused like any other element that is not an object.
			var w *wireEvent
			if err := dec.Decode(&w); err != nil {
				return nil, decodeError(err, i)
			}
			if w == nil {
				return nil, fmt.Errorf("%w: event %d is not an object", ErrMalformed, i)
			}
			events = append(events, w.event())
		}
		if _, err := dec.Token(); err != nil { // the ']'
			return nil, decodeError(err, len(events))
		}
		if events == nil {
			events = []Event{} // an empty batch is valid: nothing to apply
		}
	default:
		return nil, fmt.Errorf("%w: neither a JSON object nor an array", ErrMalformed)
	}
	// One value per body: trailing bytes mean the body is not what Mailjet sends, and
	// applying its first part would hide that.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return events, nil
}

// decodeError describes a decoding failure by position and by the name of one of our own
// fields, never with encoding/json's text: that quotes input ("cannot unmarshal number
// 1e999"), and input is where the addresses are.
func decodeError(err error, index int) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%w: invalid JSON at byte %d", ErrMalformed, syn.Offset)
	case errors.As(err, &typ):
		if knownFields[typ.Field] {
			return fmt.Errorf("%w: event %d: field %s has the wrong type", ErrMalformed, index, typ.Field)
		}
		return fmt.Errorf("%w: event %d is not an object of the expected types", ErrMalformed, index)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated JSON", ErrMalformed)
	}
	return fmt.Errorf("%w: event %d could not be decoded", ErrMalformed, index)
}

// wireEvent is the JSON shape. It names only the fields Event keeps (plus mj_message_id,
// read as a fallback): encoding/json skips every other key without keeping its value, which
// is how ip, geo and agent never reach memory we hold.
type wireEvent struct {
	Event          string   `json:"event"`
	Time           unixTime `json:"time"`
	MessageID      flexInt  `json:"MessageID"`
	MJMessageID    flexInt  `json:"mj_message_id"` // sent: a deprecated string copy of MessageID
	MessageGUID    string   `json:"Message_GUID"`
	Email          string   `json:"email"`
	CustomID       string   `json:"CustomID"`
	Payload        string   `json:"Payload"`
	HardBounce     flexBool `json:"hard_bounce"`
	Blocked        flexBool `json:"blocked"`
	ErrorRelatedTo string   `json:"error_related_to"`
	Error          string   `json:"error"`
	Source         string   `json:"source"`
	ListID         flexInt  `json:"mj_list_id"`
	URL            string   `json:"url"`
}

// knownFields are the JSON names of wireEvent, the only field names an error may carry.
var knownFields = map[string]bool{
	"event": true, "time": true, "MessageID": true, "mj_message_id": true, "Message_GUID": true,
	"email": true, "CustomID": true, "Payload": true, "hard_bounce": true, "blocked": true,
	"error_related_to": true, "error": true, "source": true, "mj_list_id": true, "url": true,
}

func (w *wireEvent) event() Event {
	e := Event{
		Type:           w.Event,
		MessageID:      w.MessageID.v,
		MessageGUID:    w.MessageGUID,
		Email:          w.Email,
		CustomID:       w.CustomID,
		Payload:        w.Payload,
		HardBounce:     bool(w.HardBounce),
		Blocked:        bool(w.Blocked),
		ErrorRelatedTo: w.ErrorRelatedTo,
		Error:          w.Error,
		Source:         w.Source,
		ListID:         w.ListID.v,
		URL:            w.URL,
	}
	if e.MessageID == 0 {
		e.MessageID = w.MJMessageID.v
	}
	if w.Time.set {
		e.Time = time.Unix(w.Time.v, 0).UTC()
	}
	return e
}

// flexInt is an int64 read from the JSON literal itself, never through float64: Mailjet's
// MessageID values (576460752303424001) are above 2^53, where float64 loses digits. The
// docs give mj_message_id as a string copy of MessageID, so a string of digits is accepted
// too; null and "" leave it unset.
type flexInt struct {
	v   int64
	set bool
}

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	what := "number"
	if len(s) > 0 && s[0] == '"' {
		what = "string"
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if str == "" {
			return nil
		}
		s = str
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Value names the JSON kind only; decodeError drops it anyway.
		return &json.UnmarshalTypeError{Value: what, Type: int64Type}
	}
	n.v, n.set = v, true
	return nil
}

// unixTime reads `time`. A number or string that is not an integer of Unix seconds (1.5,
// 1e10, a number past int64, a word) is read as no time rather than refused: refusing it
// would refuse the whole batch, which Mailjet retries for 24 h and then drops with every real
// bounce and complaint in it. Whether a time, or its absence, is acceptable is the caller's
// to decide (R-MAIL-1, R-MAIL-5). Any other JSON kind (an object, an array, a boolean) is no
// Mailjet shape and stays malformed.
type unixTime struct{ flexInt }

func (t *unixTime) UnmarshalJSON(b []byte) error {
	err := t.flexInt.UnmarshalJSON(b)
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && len(b) > 0 && (b[0] == '"' || b[0] == '-' || '0' <= b[0] && b[0] <= '9') {
		*t = unixTime{}
		return nil
	}
	return err
}

var (
	int64Type = reflect.TypeFor[int64]()
	boolType  = reflect.TypeFor[bool]()
)

// flexBool reads hard_bounce and blocked. Mailjet sends JSON booleans; "true"/"false" and
// 0/1 are accepted too, because refusing a whole batch over a boolean's spelling would make
// Mailjet retry it for 24 h and then drop every event in it.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`, "1", `"1"`:
		*f = true
	case "false", `"false"`, "0", `"0"`, "null", `""`:
		*f = false
	default:
		return &json.UnmarshalTypeError{Value: "value", Type: boolType}
	}
	return nil
}

// Permanent reports whether the event says the address must never be mailed again, the
// events R-MAIL-1 sends to the blacklist: a spam complaint, a block, a hard bounce.
//
// Two deliberate exceptions, because a blacklist entry is irreversible and R-MAIL-1 blocks
// every future mail to the address:
//   - a bounce whose error is "greylisted" is soft even if hard_bounce is set: Mailjet lists
//     greylisting as temporary, and Anymail maps it to "deferred", not "bounced";
//   - a bounce or block Mailjet attributes to the sender's side — error_related_to
//     "content" (a broken template), "spam" (our sender or content refused), "system"
//     (Mailjet's own issue), or the error "duplicate in campaign", which the docs say only
//     affects that campaign — says nothing about the address. Blacklisting on it would turn
//     one broken brand template into a blacklist of every address it was sent to. Such a
//     bounce is soft (the status is set and the member can release it); such a block is
//     neither.
func (e Event) Permanent() bool {
	switch e.Type {
	case EventSpam:
		return true
	case EventBlocked:
		return !e.blamesSender()
	case EventBounce:
		return e.HardBounce && !e.greylisted() && !e.blamesSender()
	}
	return false
}

// SoftBounce reports a bounce that is not permanent: it sets the soft-bounce status only,
// which the member may release (R-MAIL-2).
func (e Event) SoftBounce() bool {
	return e.Type == EventBounce && !e.Permanent()
}

func (e Event) greylisted() bool {
	return strings.EqualFold(strings.TrimSpace(e.Error), "greylisted")
}

// blamesSender reports an error Mailjet attributes to the sending side rather than to the
// recipient (CONTRACT §1, the error_related_to / error table).
func (e Event) blamesSender() bool {
	switch strings.ToLower(strings.TrimSpace(e.ErrorRelatedTo)) {
	case "content", "spam", "system":
		return true
	}
	return strings.EqualFold(strings.TrimSpace(e.Error), "duplicate in campaign")
}

// Key identifies the event for deduplication: Mailjet delivers at least once (it retries
// every 30 s for 24 h and sends duplicates), and CONTRACT §1 names MessageID + event + time
// as the key. It holds no personal data: two integers and a known type ("other" for any
// type this package does not know, since a type is free text). Without a MessageID it falls
// back to Message_GUID when that is a plain UUID; with neither, "" (no stable identity).
//
// Two clicks on one message in the same second share a key; dropping the second loses
// nothing a caller uses.
func (e Event) Key() string {
	var id string
	switch {
	case e.MessageID != 0:
		id = strconv.FormatInt(e.MessageID, 10)
	case isUUID(e.MessageGUID):
		id = "g" + strings.ToLower(e.MessageGUID)
	default:
		return ""
	}
	var t int64
	if !e.Time.IsZero() {
		t = e.Time.Unix()
	}
	return "mj:" + id + ":" + e.knownType() + ":" + strconv.FormatInt(t, 10)
}

func (e Event) knownType() string {
	switch e.Type {
	case EventSent, EventOpen, EventClick, EventBounce, EventBlocked, EventSpam, EventUnsub:
		return e.Type
	}
	return "other"
}

// isUUID accepts the 8-4-4-4-12 hex form Mailjet uses for Message_GUID, and nothing else, so
// that a key never carries free text.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// String shows the event by type and key only: fmt's %v and %+v of an Event, or of a slice
// of them, never print the address or the clicked link (R-OPS-1).
func (e Event) String() string {
	return "mailjet " + strconv.Quote(e.knownType()) + " event " + e.Key()
}

// GoString keeps %#v as safe as %v.
func (e Event) GoString() string { return e.String() }

// LogValue makes slog log an Event by ids only (R-OPS-1).
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", e.knownType()), slog.Int64("messageId", e.MessageID)}
	if !e.Time.IsZero() {
		attrs = append(attrs, slog.Int64("time", e.Time.Unix()))
	}
	return slog.GroupValue(attrs...)
}
