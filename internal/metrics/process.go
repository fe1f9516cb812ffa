package metrics

// processCollector writes the families of the client library's default
// process collector (collectors.NewProcessCollector with no options): CPU
// time, memory, file descriptors, start time and, on Linux, network bytes,
// for this process, with what each platform offers (process_*.go). A
// family that cannot be read is left out, as the collector leaves it out
// without ReportErrors.
type processCollector struct{}

const (
	helpCPU        = "Total user and system CPU time spent in seconds."
	helpOpenFDs    = "Number of open file descriptors."
	helpMaxFDs     = "Maximum number of open file descriptors."
	helpVsize      = "Virtual memory size in bytes."
	helpMaxVsize   = "Maximum amount of virtual memory available in bytes."
	helpRSS        = "Resident memory size in bytes."
	helpStartTime  = "Start time of the process since unix epoch in seconds."
	helpNetReceive = "Number of bytes received by the process over the network."
	helpNetSend    = "Number of bytes sent by the process over the network."
)
