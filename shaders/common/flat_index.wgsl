// The flat invocation index of a 1D dispatch whose workgroups engine.grid folded into 2D
// past the per-dimension limit. Needs the shader's `override WG` (its workgroup size).
fn flat_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}
