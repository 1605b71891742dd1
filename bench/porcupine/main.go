// Porcupine side of bench/linearizability-long.ts: reads the generated register histories
// (JSON, one file per history) and checks each with Porcupine's CheckOperationsTimeout,
// printing one JSON line per file: {"file", "verdict", "ms"}. The model is Knossos's
// cas-register, as faultline checks the same histories under Jepsen semantics: a CAS that
// completed matched; an operation whose outcome is unknown (Jepsen :info) returns at the end
// with an output every state accepts (Porcupine has no :info of its own; its tests do this).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

type op struct {
	Client  int    `json:"client"`
	F       string `json:"f"`
	A       int    `json:"a"`
	B       int    `json:"b"`
	Out     int    `json:"out"`
	Unknown bool   `json:"unknown"`
	Call    int64  `json:"call"`
	Ret     int64  `json:"ret"`
}

type input struct {
	f    uint8 // 0 read, 1 write, 2 cas
	a, b int
}

type output struct {
	value   int
	unknown bool
}

var model = porcupine.Model{
	Init: func() interface{} { return 0 },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		s := state.(int)
		i := in.(input)
		o := out.(output)
		switch i.f {
		case 0:
			return o.unknown || o.value == s, s
		case 1:
			return true, i.a
		default:
			if s == i.a {
				return true, i.b
			}
			return o.unknown, s
		}
	},
	Hash: func(state interface{}) uint64 { return uint64(state.(int)) },
	Equal: func(a, b interface{}) bool { return a.(int) == b.(int) },
}

func main() {
	timeoutMs, _ := strconv.Atoi(os.Args[1])
	for _, file := range os.Args[2:] {
		data, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		var ops []op
		if err := json.Unmarshal(data, &ops); err != nil {
			panic(err)
		}
		var end int64
		for _, o := range ops {
			if o.Ret > end {
				end = o.Ret
			}
		}
		history := make([]porcupine.Operation, 0, len(ops))
		for _, o := range ops {
			f := map[string]uint8{"read": 0, "write": 1, "cas": 2}[o.F]
			ret := o.Ret
			if o.Unknown {
				ret = end + 1
			}
			history = append(history, porcupine.Operation{
				ClientId: o.Client,
				Input:    input{f: f, a: o.A, b: o.B},
				Call:     o.Call,
				Output:   output{value: o.Out, unknown: o.Unknown},
				Return:   ret,
			})
		}
		started := time.Now()
		result := porcupine.CheckOperationsTimeout(model, history, time.Duration(timeoutMs)*time.Millisecond)
		ms := float64(time.Since(started).Microseconds()) / 1000
		verdict := map[porcupine.CheckResult]string{porcupine.Ok: "linearizable", porcupine.Illegal: "not-linearizable", porcupine.Unknown: "unknown"}[result]
		fmt.Printf("{\"file\": %q, \"verdict\": %q, \"ms\": %.3f}\n", file, verdict, ms)
	}
}
