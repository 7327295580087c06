package azfunc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Function is one function.json. The host, not this binary, reads these
// files; loading them here lets tests check that the router serves every
// function the host will call, and that timer schedules parse.
type Function struct {
	Name     string // the folder name, which is also the path the host POSTs to
	Bindings []Binding
}

// Binding is one entry of function.json's "bindings". Fields not listed are
// ignored.
type Binding struct {
	Type         string   `json:"type"`
	Direction    string   `json:"direction"`
	Name         string   `json:"name"`
	AuthLevel    string   `json:"authLevel,omitempty"`
	Methods      []string `json:"methods,omitempty"`
	Route        string   `json:"route,omitempty"`
	Schedule     string   `json:"schedule,omitempty"`
	QueueName    string   `json:"queueName,omitempty"`
	Connection   string   `json:"connection,omitempty"`
	DataType     string   `json:"dataType,omitempty"` // "binary" changes the trigger's wire encoding
	RunOnStartup *bool    `json:"runOnStartup,omitempty"`
	UseMonitor   *bool    `json:"useMonitor,omitempty"`
}

// LoadFunctions reads every */function.json in fsys, sorted by name. It
// fails where the host would refuse the app or misbehave: a function without
// exactly one trigger, or a timer schedule that does not parse.
func LoadFunctions(fsys fs.FS) ([]Function, error) {
	files, err := fs.Glob(fsys, "*/function.json")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("azfunc: no */function.json found; is fsys the app root?")
	}
	funcs := make([]Function, 0, len(files))
	for _, file := range files {
		fn, err := loadFunction(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("azfunc: %s: %w", file, err)
		}
		funcs = append(funcs, fn)
	}
	return funcs, nil
}

func loadFunction(fsys fs.FS, file string) (Function, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return Function{}, err
	}
	var doc struct{ Bindings []Binding }
	if err := json.Unmarshal(data, &doc); err != nil {
		return Function{}, err
	}
	fn := Function{Name: path.Dir(file), Bindings: doc.Bindings}

	triggers := 0
	for _, b := range fn.Bindings {
		if b.isTrigger() {
			triggers++
		}
	}
	if triggers != 1 {
		return Function{}, fmt.Errorf("want exactly one trigger binding, found %d", triggers)
	}
	if t := fn.Trigger(); fn.IsTimer() && !isAppSetting(t.Schedule) {
		if _, err := ParseSchedule(t.Schedule); err != nil {
			return Function{}, err
		}
	}
	return fn, nil
}

// isAppSetting reports a "%NAME%" value, which the host resolves from app
// settings at start-up and we cannot check.
func isAppSetting(s string) bool {
	return len(s) > 2 && strings.HasPrefix(s, "%") && strings.HasSuffix(s, "%")
}

// Binding types and directions are case-insensitive to the host, and a
// missing direction means "in".
func (b Binding) is(typ string) bool { return strings.EqualFold(b.Type, typ) }

func (b Binding) isTrigger() bool { return strings.HasSuffix(strings.ToLower(b.Type), "trigger") }

func (b Binding) isIn() bool { return b.Direction == "" || strings.EqualFold(b.Direction, "in") }

func (b Binding) isOut() bool { return strings.EqualFold(b.Direction, "out") }

// Trigger returns the trigger binding, or the zero Binding if there is none.
func (f Function) Trigger() Binding {
	for _, b := range f.Bindings {
		if b.isTrigger() {
			return b
		}
	}
	return Binding{}
}

// IsHTTP reports whether the host forwards this function's requests raw to
// the original path (/api/...) when enableForwardingHttpRequest is on. That
// takes exactly one input, an httpTrigger, and exactly one output, http;
// an HTTP function with any other binding gets a POST /{Name} envelope.
func (f Function) IsHTTP() bool {
	var in, out []Binding
	for _, b := range f.Bindings {
		switch {
		case b.isIn():
			in = append(in, b)
		case b.isOut():
			out = append(out, b)
		}
	}
	return len(in) == 1 && in[0].is("httpTrigger") && len(out) == 1 && out[0].is("http")
}

// IsTimer reports a timerTrigger function.
func (f Function) IsTimer() bool { return f.Trigger().is("timerTrigger") }

// IsServiceBus reports a serviceBusTrigger function.
func (f Function) IsServiceBus() bool { return f.Trigger().is("serviceBusTrigger") }
