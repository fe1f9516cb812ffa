package mcpserver

// KeepRequestContext turns off the workaround for mcp-go issue 897 (tests
// only), to show that the library bug is still there.
func KeepRequestContext(o *TaskOptions) { o.keepRequestContext = true }

// TaskBookkeeping reports the task runner's map sizes.
func (s *Server) TaskBookkeeping() (pending, byCorr, byTask int) { return s.tasks.sizes() }
