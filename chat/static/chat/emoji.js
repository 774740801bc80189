// The reaction picker's emoji: built in, nothing fetched.
export const EMOJI = [
  "👍", "👎", "😄", "🎉", "❤️", "😮", "😢", "😡",
  "🙏", "👀", "🚀", "✅", "❌", "🔥", "💯", "🤔",
  "👏", "🙌", "😂", "😅", "🤝", "⭐", "💡", "☕",
];
