// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
// lgrin_capture.js - the AudioWorklet processor of the live page: the microphone's first channel, as it
// arrives (128 frames a render quantum), posted to the main thread in Float32 chunks of CHUNK samples.
// Chunks are copies: the render quantum's buffer is reused by the audio thread.

const CHUNK = 2048; // ~43 ms at 48 kHz: few messages, and a decision every hop still shows at once

class LgrinCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buffer = new Float32Array(CHUNK);
    this.filled = 0;
    this.port.onmessage = (event) => {
      if (event.data === 'flush') this.flush();
    };
  }

  flush() {
    if (this.filled > 0) this.port.postMessage(this.buffer.slice(0, this.filled));
    this.filled = 0;
    this.port.postMessage('flushed');
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true; // no input connected yet: keep the node alive
    let at = 0;
    while (at < channel.length) {
      const n = Math.min(channel.length - at, CHUNK - this.filled);
      this.buffer.set(channel.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === CHUNK) {
        this.port.postMessage(this.buffer.slice());
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('lgrin-capture', LgrinCapture);
