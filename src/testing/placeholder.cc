// Placeholder so that the component library exists before its first source.
namespace mh {
int testing_placeholder = 0;
}
