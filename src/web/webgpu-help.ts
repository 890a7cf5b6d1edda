// What to tell a user whose browser gives the page no WebGPU. Facts from the WebGPU working
// group's implementation-status page (github.com/gpuweb/gpuweb/wiki/Implementation-Status,
// revision of Nov 2025 and Apr 2026) and MDN's browser-compat-data (api/GPU*.json):
//   Chrome/Edge 113+ on Windows, macOS and ChromeOS; Chrome 121+ on Android (12+, ARM/Qualcomm/Intel GPUs);
//   Chrome on Linux ships for Intel Gen12+ (144) and NVIDIA (147, driver 535.183.01+); elsewhere
//   on Linux behind flags: --enable-unsafe-webgpu --ozone-platform=x11 --use-angle=vulkan
//   --enable-features=Vulkan,VulkanFromANGLE;
//   Firefox 141+ on Windows, 145+ on macOS 26 (Apple silicon); Safari 26 (macOS, iOS, iPadOS).
export const WEBGPU_BROWSERS =
  'WebGPU is in Chrome and Edge 113+ on Windows, macOS and ChromeOS, Chrome 121+ on Android, Firefox 141+ on Windows (145+ on macOS 26 with Apple silicon) and Safari 26. ' +
  'Chrome on Linux has it for Intel Gen12+ (version 144+) and NVIDIA (147+) GPUs; otherwise start it with ' +
  '--enable-unsafe-webgpu --ozone-platform=x11 --use-angle=vulkan --enable-features=Vulkan,VulkanFromANGLE. ' +
  'The page must come from https:// or http://localhost (ser serve).';
