package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/bcdr/bcdr/orchestrator"
)

// DefaultPDFTimeout bounds one PDF render, browser start included.
const DefaultPDFTimeout = 30 * time.Second

// maxRenders is how many tabs print at once; more requests wait.
const maxRenders = 2

// Printer prints HTML to PDF with headless Chromium. One browser, started
// by the first PDF, prints every report in a tab of its own: starting
// Chromium takes seconds, a tab milliseconds. A browser that died or
// failed is started again by the next PDF.
type Printer struct {
	exec    string
	timeout time.Duration
	slots   chan struct{}

	mu      sync.Mutex
	browser context.Context // nil until started
	stop    context.CancelFunc
}

// chromiumNames are the executables Debian and others install Chromium as.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindChromium returns the path of the Chromium executable on PATH.
func FindChromium() (string, error) {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found on PATH (install the Debian package chromium)")
}

// NewPrinter returns a printer over the Chromium at path ("" finds it on
// PATH); timeout 0 is DefaultPDFTimeout.
func NewPrinter(path string, timeout time.Duration) (*Printer, error) {
	if path == "" {
		var err error
		if path, err = FindChromium(); err != nil {
			return nil, err
		}
	} else if _, err := exec.LookPath(path); err != nil {
		return nil, fmt.Errorf("chromium %s: %w", path, err)
	}
	if timeout <= 0 {
		timeout = DefaultPDFTimeout
	}
	return &Printer{exec: path, timeout: timeout, slots: make(chan struct{}, maxRenders)}, nil
}

// errNoPrinter is the answer to a PDF request where Chromium is missing.
var errNoPrinter = orchestrator.Errorf(orchestrator.EUNAVAILABLE,
	"PDF needs headless Chromium, which is not installed on this server (Debian packages chromium and fonts-noto-cjk); format=html works without it")

// PDF prints html on A4 with page numbers in the footer. footer is the
// text before the page number (already HTML-escaped by the caller's
// template).
func (p *Printer) PDF(ctx context.Context, html []byte, footer string) ([]byte, error) {
	if p == nil {
		return nil, errNoPrinter
	}
	wait, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-wait.Done():
		return nil, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "PDF not printed: every browser tab busy for %s", p.timeout)
	}
	bctx, err := p.start(ctx)
	if err != nil {
		return nil, err
	}
	// A tab of the shared browser, ended by the render's deadline or the
	// caller's cancellation, whichever comes first.
	tctx, closeTab := chromedp.NewContext(bctx)
	defer closeTab()
	tctx, cancelTab := context.WithDeadline(tctx, deadline(ctx, p.timeout))
	defer cancelTab()
	defer context.AfterFunc(ctx, cancelTab)()
	setContent := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return err
		}
		_, err = cdp.Call(ctx, t, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(html)})
		return err
	})
	err = chromedp.Do(tctx, chromedp.Navigate("about:blank"), setContent)
	var out []byte
	if err == nil {
		out, err = chromedp.Run(tctx, chromedp.PrintToPDF(
			chromedp.PDFPaper(chromedp.PaperA4),
			chromedp.PDFMargins(0.5, 0.5, 0.6, 0.5),
			chromedp.PDFPrintBackground(),
			chromedp.PDFHeaderTemplate(`<span></span>`),
			chromedp.PDFFooterTemplate(`<div style="font-size:8px;width:100%;text-align:center;color:#555">`+footer+
				` <span class="pageNumber"></span> / <span class="totalPages"></span></div>`),
		))
	}
	if err != nil {
		if ctx.Err() == nil && tctx.Err() != nil {
			p.reset(bctx) // a browser too slow to print is not trusted with the next one
			return nil, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "PDF not printed within %s", p.timeout)
		}
		if bctx.Err() != nil {
			p.reset(bctx)
		}
		return nil, fmt.Errorf("print PDF with %s: %w", p.exec, err)
	}
	return out, nil
}

// deadline is ctx's deadline or, sooner, timeout from now.
func deadline(ctx context.Context, timeout time.Duration) time.Time {
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// start returns the running browser, starting one if there is none; the
// start is bounded by the printer's timeout and ctx.
func (p *Printer) start(ctx context.Context) (context.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.browser != nil && p.browser.Err() == nil {
		return p.browser, nil
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(p.exec),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("font-render-hinting", "none"),
	)
	// Chromium refuses to start as root with its sandbox on, and bcdr runs
	// as root in containers: only then is the sandbox turned off.
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	// The browser outlives the request that starts it, so it hangs off a
	// context of its own, ended by Close or a failure.
	actx, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, stopBrowser := chromedp.NewContext(actx)
	stop := func() { stopBrowser(); stopAlloc() }
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			stop()
			return nil, fmt.Errorf("start %s: %w", p.exec, err)
		}
	case <-timer.C:
		stop()
		return nil, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "chromium did not start within %s", p.timeout)
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	p.browser, p.stop = bctx, stop
	return bctx, nil
}

// reset stops the browser bctx if it is still the printer's.
func (p *Printer) reset(bctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.browser == bctx {
		p.stop()
		p.browser, p.stop = nil, nil
	}
}

// Close stops the browser, if one runs.
func (p *Printer) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		p.stop()
		p.browser, p.stop = nil, nil
	}
}
