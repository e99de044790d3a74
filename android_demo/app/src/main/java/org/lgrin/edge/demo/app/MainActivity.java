// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The lgrin-edge authors
package org.lgrin.edge.demo.app;

import android.app.Activity;
import android.content.pm.PackageManager;
import android.os.Bundle;
import android.view.View;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.LinearLayout;
import android.widget.ProgressBar;
import android.widget.Spinner;
import android.widget.TextView;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.lgrin.edge.demo.AssetSource;
import org.lgrin.edge.demo.Backend;
import org.lgrin.edge.demo.Classifier;
import org.lgrin.edge.demo.DemoAssets;
import org.lgrin.edge.demo.NativeBackend;
import org.lgrin.edge.demo.Prediction;
import org.lgrin.edge.demo.ReferenceCheck;
import org.lgrin.edge.demo.SampleSet;

/**
 * Classifies the bundled test samples with the exported int8 model on a selectable backend; and the live
 * modes (microphone, motion sensors) of the C model's stream ({@link LiveController}).
 */
public final class MainActivity extends Activity {
    private static final int TIMING_RUNS = 20;

    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final Map<String, Backend> backends = new HashMap<>(); // touched on the worker thread only
    private final List<String> backendKeys = new ArrayList<>();
    private DemoAssets assets;
    private SampleSet samples;

    private Spinner backendSpinner, sampleSpinner;
    private TextView result, status;
    private LinearLayout probabilities;
    private LiveController live; // null without the C model

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        setContentView(R.layout.activity_main);
        backendSpinner = findViewById(R.id.backend);
        sampleSpinner = findViewById(R.id.sample);
        result = findViewById(R.id.result);
        status = findViewById(R.id.status);
        probabilities = findViewById(R.id.probabilities);
        Button classify = findViewById(R.id.classify);
        Button checkAll = findViewById(R.id.check_all);
        Button microphone = findViewById(R.id.microphone);
        Button motion = findViewById(R.id.motion);
        microphone.setEnabled(false);
        motion.setEnabled(false);

        AssetSource apk = name -> getAssets().open("lgrin/" + name);
        try {
            assets = DemoAssets.open(apk);
            samples = assets.samples();
            if (assets.hasModel(DemoAssets.C_RUNTIME)) {
                live = new LiveController(this, assets.model(DemoAssets.C_RUNTIME), findViewById(R.id.timeline),
                        findViewById(R.id.hop));
                microphone.setEnabled(true);
                motion.setEnabled(true);
            }
        } catch (IOException e) {
            status.setText("Cannot load the packed model assets:\n" + e.getMessage());
            classify.setEnabled(false);
            checkAll.setEnabled(false);
            return;
        }
        List<String> labels = new ArrayList<>();
        if (assets.hasModel(DemoAssets.TFLITE)) {
            backendKeys.add(DemoAssets.TFLITE);
            labels.add(getString(R.string.backend_litert));
        }
        if (assets.hasModel(DemoAssets.C_RUNTIME)) {
            backendKeys.add(DemoAssets.C_RUNTIME);
            labels.add(getString(R.string.backend_c));
        }
        backendSpinner.setAdapter(adapter(labels));
        List<String> sampleLabels = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            sampleLabels.add(String.format(Locale.ROOT, "#%d  (true class: %s)", i, samples.classes().get(samples.label(i))));
        }
        sampleSpinner.setAdapter(adapter(sampleLabels));
        sampleSpinner.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            @Override public void onItemSelected(AdapterView<?> parent, View view, int position, long id) { classify(); }
            @Override public void onNothingSelected(AdapterView<?> parent) {}
        });
        classify.setOnClickListener(v -> classify());
        checkAll.setOnClickListener(v -> checkAll());
        microphone.setOnClickListener(v -> toggleLive(true));
        motion.setOnClickListener(v -> toggleLive(false));
        status.setText(String.format(Locale.ROOT, "%d test samples, graphs of %d nodes x %d features, %d classes",
                samples.size(), samples.numNodes(), samples.numFeatures(), samples.numClasses()));
    }

    private ArrayAdapter<String> adapter(List<String> items) {
        ArrayAdapter<String> a = new ArrayAdapter<>(this, android.R.layout.simple_spinner_item, items);
        a.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item);
        return a;
    }

    private String selectedBackend() {
        return backendKeys.get(backendSpinner.getSelectedItemPosition());
    }

    /** Runs on the worker thread: creates each backend once, from the sha256-checked model asset. */
    private Backend backend(String key) throws IOException {
        Backend b = backends.get(key);
        if (b == null) {
            byte[] model = assets.model(key);
            b = DemoAssets.TFLITE.equals(key) ? new LiteRtBackend(model, 1) : new NativeBackend(model);
            backends.put(key, b);
        }
        return b;
    }

    private void classify() {
        final String key = selectedBackend();
        final int index = sampleSpinner.getSelectedItemPosition();
        status.setText("Running…");
        worker.execute(() -> {
            try {
                Classifier c = new Classifier(backend(key), samples.classes());
                float[] x = samples.input(index);
                Prediction p = c.classify(x);
                long median = c.medianNanos(x, TIMING_RUNS);
                runOnUiThread(() -> show(p, index, median, c.backend().name()));
            } catch (IOException | RuntimeException e) {
                runOnUiThread(() -> status.setText("Error: " + e.getMessage()));
            }
        });
    }

    private void show(Prediction p, int index, long medianNanos, String backendName) {
        String truth = samples.classes().get(samples.label(index));
        result.setText(String.format(Locale.ROOT,
                "Predicted: %s (%.1f%%)%nTrue class: %s %s%nInference: %.3f ms (first call), %.3f ms (median of %d)",
                p.className(), 100 * p.probabilities()[p.classIndex()], truth,
                p.classIndex() == samples.label(index) ? "✓" : "✗",
                p.inferenceNanos() / 1e6, medianNanos / 1e6, TIMING_RUNS));
        probabilities.removeAllViews();
        float[] probs = p.probabilities();
        for (int k = 0; k < probs.length; k++) {
            TextView name = new TextView(this);
            name.setText(String.format(Locale.ROOT, "%s  %.1f%%", samples.classes().get(k), 100 * probs[k]));
            ProgressBar bar = new ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal);
            bar.setMax(1000);
            bar.setProgress(Math.round(1000 * probs[k]));
            probabilities.addView(name);
            probabilities.addView(bar);
        }
        status.setText(backendName + ", sample #" + index);
    }

    /** Runs every bundled sample and compares with the logits the export's Python verification recorded. */
    private void checkAll() {
        final String key = selectedBackend();
        status.setText("Checking all samples…");
        worker.execute(() -> {
            String text;
            try {
                Backend b = backend(key);
                text = samples.hasReferenceLogits()
                        ? b.name() + " vs the export's C-runtime logits: " + ReferenceCheck.run(b, samples)
                        : "The packed samples hold no reference logits.";
            } catch (IOException | RuntimeException e) {
                text = "Error: " + e.getMessage();
            }
            final String shown = text;
            runOnUiThread(() -> status.setText(shown));
        });
    }

    /** Starts the microphone or the motion mode, or stops the one running. */
    private void toggleLive(boolean microphone) {
        if (live.running()) {
            live.stop();
        } else if (microphone) {
            live.startMicrophone();
        } else {
            live.startMotion();
        }
    }

    @Override
    public void onRequestPermissionsResult(int requestCode, String[] permissions, int[] grants) {
        if (requestCode == LiveController.REQUEST_RECORD_AUDIO && live != null) {
            live.onPermission(grants.length == 1 && grants[0] == PackageManager.PERMISSION_GRANTED);
        }
    }

    @Override
    protected void onPause() {
        if (live != null) {
            live.stop();
        }
        super.onPause();
    }

    @Override
    protected void onDestroy() {
        worker.execute(() -> {
            for (Backend b : backends.values()) {
                b.close();
            }
            backends.clear();
        });
        worker.shutdown();
        super.onDestroy();
    }
}
