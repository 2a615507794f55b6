<?php
// JSON-RPC 2.0 from PHP to netlab's RPC service (the same methods as its XML-RPC service).
//   php jsonrpc_client.php [URL]           (default http://127.0.0.1:8080/jsonrpc)

$url = $argv[1] ?? 'http://127.0.0.1:8080/jsonrpc';
$nextId = 1;

function rpc(string $url, string $method, array $params, int &$nextId) {
    $request = json_encode(['jsonrpc' => '2.0', 'method' => $method, 'params' => $params, 'id' => $nextId++]);
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => "Content-Type: application/json\r\n",
        'content' => $request,
        'ignore_errors' => true,
        'timeout' => 10,
    ]]);
    $text = @file_get_contents($url, false, $context);
    if ($text === false) {
        fwrite(STDERR, "cannot reach $url\n");
        exit(1);
    }
    $reply = json_decode($text, true);
    if (isset($reply['error'])) {
        return "fault {$reply['error']['code']}: {$reply['error']['message']}";
    }
    return $reply['result'];
}

echo "add(2, 3) = " . json_encode(rpc($url, 'add', [2, 3], $nextId)) . "\n";
echo "add('ab', 'cd') = " . json_encode(rpc($url, 'add', ['ab', 'cd'], $nextId)) . "\n";
echo "double(21) = " . json_encode(rpc($url, 'double', [21], $nextId)) . "\n";
$forecast = rpc($url, 'weather_forecast', [2], $nextId);
echo "weather_forecast(2): " . count($forecast) . " days, first {$forecast[0]['date']} {$forecast[0]['summary']}\n";
echo "add(1, 'x') -> " . rpc($url, 'add', [1, 'x'], $nextId) . "\n";
