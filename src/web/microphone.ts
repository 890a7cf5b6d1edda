// Recording from the microphone: MediaRecorder captures (compressed) audio, the browser's
// AudioContext decodes it to Float32 PCM, averaged to mono. Resampling to 16 kHz is left to
// the caller (the project's band-limited resampler, the same as for WAV files).

export interface Pcm {
  samples: Float32Array;
  sampleRate: number;
}

export class MicrophoneRecorder {
  private recorder: MediaRecorder | null = null;
  private chunks: Blob[] = [];
  private stream: MediaStream | null = null;

  get recording(): boolean {
    return this.recorder !== null;
  }

  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser cannot record (no getUserMedia; the page must be served over https or localhost)');
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    this.chunks = [];
    this.recorder = new MediaRecorder(this.stream);
    this.recorder.ondataavailable = (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    };
    this.recorder.start();
  }

  /** Stops recording and returns the decoded audio. */
  async stop(): Promise<Pcm> {
    const rec = this.recorder;
    if (!rec) throw new Error('not recording');
    const stopped = new Promise<void>((resolve) => (rec.onstop = () => resolve()));
    rec.stop();
    await stopped;
    this.recorder = null;
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    const blob = new Blob(this.chunks, { type: rec.mimeType });
    const ctx = new AudioContext();
    try {
      const audio = await ctx.decodeAudioData(await blob.arrayBuffer());
      const samples = new Float32Array(audio.length);
      for (let c = 0; c < audio.numberOfChannels; c++) {
        const ch = audio.getChannelData(c);
        for (let i = 0; i < ch.length; i++) samples[i] += ch[i] / audio.numberOfChannels;
      }
      if (samples.length === 0) throw new Error('the recording is empty');
      return { samples, sampleRate: audio.sampleRate };
    } finally {
      void ctx.close();
    }
  }
}
