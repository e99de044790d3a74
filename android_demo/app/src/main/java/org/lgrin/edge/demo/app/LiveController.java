// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo.app;

import android.Manifest;
import android.app.Activity;
import android.content.Context;
import android.content.pm.PackageManager;
import android.hardware.Sensor;
import android.hardware.SensorEvent;
import android.hardware.SensorEventListener;
import android.hardware.SensorManager;
import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;
import android.os.Handler;
import android.os.HandlerThread;
import android.widget.TextView;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;

import org.lgrin.edge.LGrinNative;
import org.lgrin.edge.demo.LiveSession;

/**
 * The live modes on the device: the microphone (AudioRecord, 16 kHz mono 16-bit PCM in 100 ms reads) or
 * the accelerometer and gyroscope (SensorManager) through a {@link LiveSession} of the packed C model,
 * showing the label timeline (the newest line first) and the time per hop. One session at a time, used on
 * one thread only: the audio thread, or the sensors' handler thread.
 */
final class LiveController {
    static final int REQUEST_RECORD_AUDIO = 1;
    private static final int RATE = 16000;
    private static final int SHOWN_LINES = 40;

    private final Activity activity;
    private final byte[] model;
    private final TextView timeline;
    private final TextView hop;
    private final ArrayDeque<String> lines = new ArrayDeque<>(); // UI thread only
    private volatile boolean recording;
    private Thread audio;
    private HandlerThread sensorThread;
    private SensorEventListener listener;

    LiveController(Activity activity, byte[] model, TextView timeline, TextView hop) {
        this.activity = activity;
        this.model = model;
        this.timeline = timeline;
        this.hop = hop;
    }

    boolean running() {
        return audio != null || listener != null;
    }

    /** Starts the microphone mode, asking for RECORD_AUDIO first where it is not granted. */
    void startMicrophone() {
        if (activity.checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            activity.requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, REQUEST_RECORD_AUDIO);
            return;
        }
        lines.clear();
        recording = true;
        audio = new Thread(this::recordLoop, "lgrin-microphone");
        audio.start();
    }

    /** The answer to startMicrophone's request. */
    void onPermission(boolean granted) {
        if (granted) {
            startMicrophone();
        } else {
            hop.setText(R.string.microphone_denied);
        }
    }

    private void recordLoop() {
        int chunk = RATE / 10;
        int bytes = Math.max(AudioRecord.getMinBufferSize(RATE, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT), 4 * chunk * 2);
        AudioRecord recorder = new AudioRecord(MediaRecorder.AudioSource.MIC, RATE, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT, bytes);
        try (LGrinNative net = new LGrinNative(model); LiveSession session = new LiveSession(net, RATE)) {
            if (recorder.getState() != AudioRecord.STATE_INITIALIZED) {
                throw new IllegalStateException("the microphone cannot be opened at 16 kHz mono 16-bit");
            }
            short[] pcm = new short[chunk];
            recorder.startRecording();
            while (recording) {
                int n = recorder.read(pcm, 0, pcm.length);
                if (n < 0) {
                    throw new IllegalStateException("AudioRecord.read failed: " + n);
                }
                show(session, session.acceptPcm(pcm, n));
            }
            show(session, session.finish());
        } catch (RuntimeException e) { // the packed model takes no audio, or the microphone failed
            fail(e);
        } finally {
            recorder.release();
        }
    }

    /** Starts the motion mode: a sample per accelerometer event, with the latest gyroscope reading. */
    void startMotion() {
        SensorManager sm = (SensorManager) activity.getSystemService(Context.SENSOR_SERVICE);
        Sensor accelerometer = sm.getDefaultSensor(Sensor.TYPE_ACCELEROMETER);
        Sensor gyroscope = sm.getDefaultSensor(Sensor.TYPE_GYROSCOPE);
        LiveSession session;
        try {
            session = new LiveSession(new LGrinNative(model), 0);
        } catch (RuntimeException e) { // the packed model takes no motion samples
            fail(e);
            return;
        }
        if (accelerometer == null || (gyroscope == null && session.stream().numFeatures() == 6)) {
            session.close();
            hop.setText(R.string.no_sensors);
            return;
        }
        lines.clear();
        sensorThread = new HandlerThread("lgrin-sensors");
        sensorThread.start();
        Handler handler = new Handler(sensorThread.getLooper());
        listener = new SensorListener(session);
        sm.registerListener(listener, accelerometer, SensorManager.SENSOR_DELAY_GAME, handler);
        if (gyroscope != null) {
            sm.registerListener(listener, gyroscope, SensorManager.SENSOR_DELAY_GAME, handler);
        }
    }

    /** The sensors' callbacks, on the sensor thread: the session is used there only. */
    private final class SensorListener implements SensorEventListener {
        final LiveSession session;

        SensorListener(LiveSession session) {
            this.session = session;
        }

        @Override
        public void onSensorChanged(SensorEvent e) {
            try {
                if (e.sensor.getType() == Sensor.TYPE_GYROSCOPE) {
                    session.gyroscope(e.timestamp, e.values[0], e.values[1], e.values[2]);
                } else {
                    show(session, session.accelerometer(e.timestamp, e.values[0], e.values[1], e.values[2]));
                }
            } catch (RuntimeException ex) {
                fail(ex);
            }
        }

        @Override
        public void onAccuracyChanged(Sensor sensor, int accuracy) {}
    }

    /** Ends the running mode: its last decisions (the flush) are shown. */
    void stop() {
        recording = false;
        audio = null; // the audio thread ends after its current read
        if (listener != null) {
            SensorManager sm = (SensorManager) activity.getSystemService(Context.SENSOR_SERVICE);
            sm.unregisterListener(listener);
            LiveSession session = ((SensorListener) listener).session;
            HandlerThread thread = sensorThread;
            new Handler(thread.getLooper()).post(() -> {
                try {
                    show(session, session.finish());
                } catch (RuntimeException e) { // the failure that stopped the mode is shown already
                    hop.post(() -> hop.append("\n" + e.getMessage()));
                } finally {
                    session.close();
                    thread.quitSafely();
                }
            });
            listener = null;
            sensorThread = null;
        }
    }

    private void show(LiveSession session, List<String> made) {
        if (made.isEmpty()) {
            return;
        }
        String perHop = String.format(Locale.ROOT, "%s: W %d, H %d frames at %.4g frames/s; %.3f ms per hop",
                session.stream().kind(), session.stream().window(), session.stream().hop(),
                session.stream().frameRate(), session.lastHopMillis());
        activity.runOnUiThread(() -> {
            for (String line : made) {
                lines.addFirst(line);
            }
            while (lines.size() > SHOWN_LINES) {
                lines.removeLast();
            }
            timeline.setText(String.join("\n", lines));
            hop.setText(perHop);
        });
    }

    private void fail(RuntimeException e) {
        activity.runOnUiThread(() -> {
            hop.setText(activity.getString(R.string.live_error, e.getMessage()));
            stop();
        });
    }
}
