// placeholder: replaced by the factory implementation
namespace tessera::factory {}
