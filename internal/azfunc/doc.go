// Package azfunc speaks the Azure Functions custom-handler protocol, so the
// rest of the binary can stay ignorant of it.
//
// The Functions host starts this binary, waits until GET / answers on
// FUNCTIONS_CUSTOMHANDLER_PORT, and then POSTs one JSON envelope per
// invocation to /{FunctionName}. The envelope's quirks — strings and numbers
// serialized twice, zone-less timestamps, DateTime.MinValue for "never" —
// are undone here and nowhere else. The answer must be a 200 with a JSON
// content type and a non-empty {Outputs,Logs,ReturnValue} object; anything
// else fails the invocation, which for Service Bus means the message is
// redelivered.
//
// A main wires it up like this:
//
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
//	defer stop()
//	ln, err := net.Listen("tcp", azfunc.ListenAddr())
//	...
//	mux := http.NewServeMux()
//	mux.Handle("GET /{$}", azfunc.Readiness())
//	mux.HandleFunc("POST /ErasureWorker", erasureWorker)
//	err = azfunc.Serve(ctx, ln, mux, 20*time.Second)
//
// Envelopes may carry personal data, so no error from this package quotes
// them. The wire contract lives in shared/wire/functions-host/CONTRACT.md;
// testdata holds the fixtures the tests decode.
package azfunc
