<?php
// A shared file: PHP writes DIR/from_php.json (atomically: write a temporary file, then rename) and
// reads DIR/from_python.json if Python left one. Watch DIR with `netlab watch DIR` to see both.
//   php shared_file.php DIR [MESSAGE]

$dir = $argv[1] ?? null;
if ($dir === null) {
    fwrite(STDERR, "usage: php shared_file.php DIR [MESSAGE]\n");
    exit(2);
}
if (!is_dir($dir)) {
    fwrite(STDERR, "not a directory: $dir (create it, and watch it with `netlab watch $dir`)\n");
    exit(2);
}
$message = $argv[2] ?? 'Hello from PHP';

$document = json_encode(['from' => 'php', 'message' => $message, 'time' => date(DATE_ATOM)]);
$tmp = "$dir/.from_php.json.tmp";
file_put_contents($tmp, $document . "\n");
rename($tmp, "$dir/from_php.json");   // readers never see a half-written file
echo "wrote $dir/from_php.json\n";

$other = "$dir/from_python.json";
if (is_file($other)) {
    $data = json_decode(file_get_contents($other), true);
    echo "python said: {$data['message']}\n";
} else {
    echo "no message from python yet\n";
}
