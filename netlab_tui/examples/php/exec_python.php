<?php
// Exec: PHP runs a Python script, passes arguments, reads its JSON answer and its exit status.
//   php exec_python.php [PYTHON] [NUMBERS...]     (default python3, numbers 3 4 5)

$python = $argv[1] ?? 'python3';
$numbers = array_slice($argv, 2) ?: ['3', '4', '5'];
$script = __DIR__ . '/../python/compute.py';

$command = escapeshellarg($python) . ' ' . escapeshellarg($script) . ' '
    . implode(' ', array_map('escapeshellarg', $numbers));
exec($command . ' 2>&1', $lines, $status);
if ($status !== 0) {
    fwrite(STDERR, "python exited with $status: " . implode("\n", $lines) . "\n");
    exit(1);
}
$result = json_decode(implode("\n", $lines), true);
echo "python $result[python] computed sum={$result['sum']} mean={$result['mean']}\n";
