package testkit

import "sync"

// AllAtOnce runs fn(0), ..., fn(n-1) in n goroutines released together, so
// that they race, and returns when every one has returned.
func AllAtOnce(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
