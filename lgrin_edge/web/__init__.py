"""The web target: the C runtime in WebAssembly, its page, the browser that verifies it."""
