package azfunc_test

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
)

func TestLoadFunctions(t *testing.T) {
	funcs, err := azfunc.LoadFunctions(os.DirFS("testdata/functions"))
	require.NoError(t, err)

	type kind struct {
		trigger                       string
		isHTTP, isTimer, isServiceBus bool
	}
	want := map[string]kind{
		"GetOrder":     {trigger: "req", isHTTP: true},
		"Health":       {trigger: "req", isHTTP: true},
		"ProcessOrder": {trigger: "msg", isServiceBus: true},
		"ProcessTick":  {trigger: "myTimer", isTimer: true},
		"SubmitOrder":  {trigger: "req"}, // an extra Service Bus output: enveloped, not forwarded
	}
	var names []string
	for _, fn := range funcs {
		names = append(names, fn.Name)
		t.Run(fn.Name, func(t *testing.T) {
			got := kind{fn.Trigger().Name, fn.IsHTTP(), fn.IsTimer(), fn.IsServiceBus()}
			assert.Equal(t, want[fn.Name], got)
		})
	}
	assert.Equal(t, []string{"GetOrder", "Health", "ProcessOrder", "ProcessTick", "SubmitOrder"}, names, "sorted by name")

	t.Run("bindings carry their settings", func(t *testing.T) {
		byName := map[string]azfunc.Function{}
		for _, fn := range funcs {
			byName[fn.Name] = fn
		}
		no, yes := false, true
		assert.Equal(t, []azfunc.Binding{{
			Type: "timerTrigger", Direction: "in", Name: "myTimer",
			Schedule: "0 */5 * * * *", RunOnStartup: &no, UseMonitor: &yes,
		}}, byName["ProcessTick"].Bindings)
		assert.Equal(t, azfunc.Binding{
			Type: "httpTrigger", Direction: "in", Name: "req",
			AuthLevel: "anonymous", Methods: []string{"get", "head"}, Route: "health",
		}, byName["Health"].Trigger())
		assert.Equal(t, azfunc.Binding{
			Type: "serviceBusTrigger", Direction: "in", Name: "msg",
			QueueName: "orders", Connection: "ServiceBusConnection",
		}, byName["ProcessOrder"].Trigger())
	})
}

func TestLoadFunctionsRejects(t *testing.T) {
	file := func(json string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(json)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
	}{
		{"an empty tree", fstest.MapFS{"host.json": file(`{}`)}, "no */function.json"},
		{"invalid json", fstest.MapFS{"Broken/function.json": file(`{"bindings":[`)}, "Broken/function.json"},
		{"no trigger", fstest.MapFS{"Out/function.json": file(`{"bindings":[{"type":"http","direction":"out","name":"res"}]}`)}, "found 0"},
		{"two triggers", fstest.MapFS{"Two/function.json": file(`{"bindings":[
			{"type":"timerTrigger","name":"a","schedule":"0 0 2 * * *"},
			{"type":"serviceBusTrigger","name":"b","queueName":"q"}]}`)}, "found 2"},
		{"a bad schedule", fstest.MapFS{"Tick/function.json": file(`{"bindings":[{"type":"timerTrigger","name":"t","schedule":"0 */5 * * *"}]}`)}, "want 6 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := azfunc.LoadFunctions(tt.fsys)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}

	t.Run("accepts a schedule taken from an app setting", func(t *testing.T) {
		_, err := azfunc.LoadFunctions(fstest.MapFS{
			"Sweep/function.json": file(`{"bindings":[{"type":"timerTrigger","name":"t","schedule":"%SweepSchedule%"}]}`),
		})
		assert.NoError(t, err)
	})
}
